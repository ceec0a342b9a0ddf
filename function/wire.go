package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/time/rate"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
	"github.com/jdcloud-vm-resizer/resizer/sink"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// app is the wired function.
type app struct {
	handler    *resizer.Handler
	dispatcher *trigger.Dispatcher
	// metrics serves GET /metrics in HTTP server mode; nil under Lambda.
	metrics http.Handler
}

// build wires the adapters the configuration asks for, one builder per
// adapter. AWS configuration is loaded only when a DynamoDB table, an event
// bus or a secret is configured, so the common path pays nothing for it at
// cold start.
func build(ctx context.Context, cfg config, log *zap.Logger, underLambda bool) (*app, error) {
	shared := sharedTransport()
	httpClient := &http.Client{Transport: shared}
	observer, wrapJD, prom := buildMetrics(cfg, underLambda)
	// JD Cloud gets a client of its own over the same connections, so that
	// only its calls are counted, not the sink's.
	jdClient := &http.Client{Transport: wrapJD(shared)}
	awsCfg := lazyAWS(ctx)
	compute, err := newCompute(ctx, cfg, jdClient, awsCfg)
	if err != nil {
		return nil, err
	}
	publisher, err := newPublisher(cfg, httpClient, awsCfg)
	if err != nil {
		return nil, err
	}
	st, err := newStore(cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	opts := resizer.Options{
		Compute:        compute,
		Publisher:      publisher,
		Store:          st,
		Policy:         cfg.Policy,
		Log:            log,
		Source:         cfg.Source,
		Cooldown:       cfg.Cooldown,
		IdempotencyTTL: cfg.TTL,
		Observer:       observer,
	}
	cfg.Fleet.apply(&opts)
	h := resizer.NewHandler(opts)
	var p trigger.Processor = h
	var metricsHandler http.Handler
	if prom != nil {
		p, metricsHandler = inflight{Processor: h, m: prom}, prom
	}
	d := trigger.New(p, trigger.Options{
		Concurrency:          cfg.BatchConcurrency,
		WebhookSecret:        cfg.WebhookSecret,
		WebhookToken:         cfg.WebhookToken,
		AllowUnauthenticated: cfg.AllowUnauthenticated,
		Log:                  log,
		Labels:               cfg.Labels,
		Jira:                 cfg.Jira,
	})
	logReady(cfg, log, underLambda)
	return &app{handler: h, dispatcher: d, metrics: metricsHandler}, nil
}

// buildMetrics is docs/contract.md §10. Under Lambda: the EMF Observer on
// stdout, and a JD transport that only counts each delivery's calls for it
// (METRICS_NAMESPACE=off: neither). In HTTP server mode: one Prometheus
// registry that is the Observer, hears every JD call through the transport
// and is the GET /metrics handler (returned; nil under Lambda); the EMF
// namespace does not apply there.
func buildMetrics(cfg config, underLambda bool) (resizer.Observer, func(http.RoundTripper) http.RoundTripper, *metrics.Prometheus) {
	if !underLambda {
		prom := metrics.NewPrometheus()
		return prom, func(rt http.RoundTripper) http.RoundTripper { return metrics.Transport(rt, prom) }, prom
	}
	if cfg.MetricsNamespace == metrics.Off {
		return resizer.NopObserver{}, func(rt http.RoundTripper) http.RoundTripper { return rt }, nil
	}
	emf := &metrics.EMF{Out: os.Stdout, Namespace: cfg.MetricsNamespace}
	return emf, func(rt http.RoundTripper) http.RoundTripper { return metrics.Transport(rt, nil) }, nil
}

// newCompute is the signed JD Cloud client, with the credentials from the
// environment or from Secrets Manager, and one rate limiter for the process.
func newCompute(ctx context.Context, cfg config, httpClient *http.Client, awsCfg func() (aws.Config, error)) (resizer.Compute, error) {
	var creds jdcloud.CredentialSource = jdcloud.StaticCredentials{AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey}
	if cfg.CredentialsSecret != "" {
		ac, err := awsCfg()
		if err != nil {
			return nil, err
		}
		sm, err := newSecretCredentials(ctx, secretsClient(ac), cfg.CredentialsSecret)
		if err != nil {
			return nil, err
		}
		creds = sm
	}
	compute, err := jdcloud.New(jdcloud.Options{
		Endpoint:    cfg.Endpoint,
		Credentials: creds,
		HTTPClient:  httpClient,
		Limiter:     rate.NewLimiter(rate.Limit(cfg.RateLimit), max(1, int(cfg.RateLimit))),
		UserAgent:   "jdcloud-vm-resizer",
	})
	if err != nil {
		return nil, fmt.Errorf("JDCLOUD_ENDPOINT: %w", err)
	}
	return jdcloud.NewCache(compute, jdcloud.CacheOptions{}), nil
}

// newPublisher fans out to the HTTP sink and the event bus configured.
func newPublisher(cfg config, httpClient *http.Client, awsCfg func() (aws.Config, error)) (resizer.Publisher, error) {
	var sinks []resizer.Publisher
	if cfg.SinkURL != "" {
		s, err := sink.NewHTTP(cfg.SinkURL, sink.HTTPOptions{Client: httpClient})
		if err != nil {
			return nil, fmt.Errorf("RESULT_SINK_URL: %w", err)
		}
		sinks = append(sinks, s)
	}
	if cfg.EventBus != "" {
		ac, err := awsCfg()
		if err != nil {
			return nil, err
		}
		eb := eventbridge.NewFromConfig(ac, func(o *eventbridge.Options) { o.RetryMaxAttempts = 1 })
		sinks = append(sinks, sink.NewEventBridge(eb, cfg.EventBus, cfg.Source, sinkRetry))
	}
	return sink.Fanout(sinks...), nil
}

// newStore is DynamoDB when a table is configured, else memory.
func newStore(cfg config, awsCfg func() (aws.Config, error)) (resizer.Store, error) {
	if cfg.Table == "" {
		return store.NewMemory(store.DefaultMaxEntries), nil
	}
	ac, err := awsCfg()
	if err != nil {
		return nil, err
	}
	return store.NewDynamoDB(dynamodb.NewFromConfig(ac), cfg.Table), nil
}

// logReady says what was wired, without a secret.
func logReady(cfg config, log *zap.Logger, underLambda bool) {
	m := "prometheus " + metrics.MetricsPath
	if underLambda {
		m = "emf " + cfg.MetricsNamespace
		if cfg.MetricsNamespace == metrics.Off {
			m = metrics.Off
		}
	}
	log.Info("jdcloud-vm-resizer ready",
		zap.String("metrics", m),
		zap.String("policy", cfg.Policy.String()),
		zap.String("jdcloudEndpoint", cfg.Endpoint),
		zap.Bool("httpSink", cfg.SinkURL != ""),
		zap.Bool("eventBusSink", cfg.EventBus != ""),
		zap.Bool("dynamodbStore", cfg.Table != ""),
		zap.Bool("credentialsFromSecretsManager", cfg.CredentialsSecret != ""),
		zap.Duration("cooldown", cfg.Cooldown),
		zap.Duration("idempotencyTTL", cfg.TTL),
		zap.Int("batchConcurrency", cfg.BatchConcurrency),
		zap.Float64("jdcloudRateLimit", cfg.RateLimit),
		zap.Bool("webhookSecret", cfg.WebhookSecret != ""),
		zap.Bool("webhookToken", cfg.WebhookToken != ""),
		zap.Bool("allowUnauthenticated", cfg.AllowUnauthenticated),
		zap.String("alertInstanceLabel", cfg.Labels.Instance),
		zap.String("alertRegionLabel", cfg.Labels.Region),
		zap.String("defaultRegion", cfg.Labels.DefaultRegion),
		zap.Int("jiraFields", len(cfg.Jira.Fields)))
}

// lazyAWS loads the AWS SDK configuration on first use, once.
func lazyAWS(ctx context.Context) func() (aws.Config, error) {
	return sync.OnceValues(func() (aws.Config, error) {
		c, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return c, fmt.Errorf("loading AWS configuration: %w", err)
		}
		return c, nil
	})
}

// sharedTransport is the one keep-alive transport for JD Cloud and the sink.
func sharedTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// lambdaHandler puts the Lambda request id on every log line of a delivery.
type lambdaHandler struct {
	d   *trigger.Dispatcher
	log *zap.Logger
}

func (l lambdaHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		ctx = resizer.ContextWithLogger(ctx, l.log.With(zap.String("awsRequestId", lc.AwsRequestID)))
	}
	return l.d.Invoke(ctx, payload)
}

func newLogger(level zapcore.Level) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stdout), level)
	return zap.New(core, zap.AddCaller())
}
