package sink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

// publisherFunc adapts a function to resizer.Publisher.
type publisherFunc func(context.Context, resizer.OutcomeEvent) error

func (f publisherFunc) Publish(ctx context.Context, e resizer.OutcomeEvent) error { return f(ctx, e) }

// recorder is the shared recording Publisher.
type recorder = testkit.Publisher

func TestFanoutAllSucceed(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	want := outcomeEvent(t, true)
	if err := Fanout(a, b).Publish(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{a, b} {
		got := r.Encoded()
		if len(got) != 1 {
			t.Fatalf("a sink got %d events, want 1", len(got))
		}
		decoded, err := got[0].Decode()
		if err != nil {
			t.Fatal(err)
		}
		sameEvent(t, decoded, want)
	}
}

func TestFanoutOneFails(t *testing.T) {
	srv := newServer(t, statuses(400))
	failing := newHTTP(t, srv.URL+"/hook?token=t0ken", fast)
	ok := &recorder{}
	err := Fanout(failing, ok).Publish(context.Background(), outcomeEvent(t, false))
	if err == nil {
		t.Fatal("Publish succeeded, want an error")
	}
	if want := "http sink " + srv.URL + ": 400"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the failing sink (%q)", err, want)
	}
	if strings.Contains(err.Error(), "t0ken") {
		t.Errorf("error %q reveals the query", err)
	}
	if resizer.ErrorCode(err) != resizer.CodeAPIError {
		t.Errorf("code = %q, want api_error: a 400 is a refusal for good", resizer.ErrorCode(err))
	}
	if got := len(ok.Encoded()); got != 1 {
		t.Errorf("the healthy sink got %d events, want 1", got)
	}
}

func TestFanoutJoinsEveryFailure(t *testing.T) {
	errA, errB := errors.New("sink a down"), errors.New("sink b down")
	err := Fanout(
		publisherFunc(func(context.Context, resizer.OutcomeEvent) error { return errA }),
		&recorder{},
		publisherFunc(func(context.Context, resizer.OutcomeEvent) error { return errB }),
	).Publish(context.Background(), outcomeEvent(t, false))
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Errorf("err = %v, want both failures", err)
	}
}

func TestFanoutPublishesConcurrently(t *testing.T) {
	// Each sink waits for the other to have started: run one after the
	// other, the first would wait until the deadline and fail.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	meet := func(mine, theirs chan struct{}) resizer.Publisher {
		return publisherFunc(func(ctx context.Context, _ resizer.OutcomeEvent) error {
			close(mine)
			select {
			case <-theirs:
				return nil
			case <-ctx.Done():
				return errors.New("the other sink was never called while this one ran")
			}
		})
	}
	if err := Fanout(meet(aStarted, bStarted), meet(bStarted, aStarted)).Publish(ctx, outcomeEvent(t, false)); err != nil {
		t.Fatal(err)
	}
}

func TestFanoutGivesEachSinkItsOwnEvent(t *testing.T) {
	// A sink that edits its event must not race with, or show through to,
	// the other sinks and the caller (go test -race catches the race).
	mutator := publisherFunc(func(_ context.Context, e resizer.OutcomeEvent) error {
		e.Type = "mutated"
		return nil
	})
	r := &recorder{}
	e := outcomeEvent(t, true)
	for range 20 {
		if err := Fanout(mutator, r, mutator).Publish(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, got := range append(r.Encoded(), e) {
		if got.Type == "mutated" {
			t.Fatal("one sink's edit reached another sink or the caller")
		}
	}
}

func TestFanoutOfNothing(t *testing.T) {
	for _, p := range []resizer.Publisher{Fanout(), Fanout(nil, nil)} {
		if err := p.Publish(context.Background(), outcomeEvent(t, false)); err != nil {
			t.Errorf("Publish = %v, want nil", err)
		}
	}
	r := &recorder{}
	if err := Fanout(nil, r).Publish(context.Background(), outcomeEvent(t, false)); err != nil || len(r.Encoded()) != 1 {
		t.Errorf("Fanout(nil, sink): err = %v, %d events; want the sink to get the event", err, len(r.Encoded()))
	}
}
