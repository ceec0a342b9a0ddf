package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/backoff"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

// sinkRetry is how patiently outcome deliveries are retried per sink.
var sinkRetry = backoff.Default

type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

func secretsClient(c aws.Config) secretsAPI { return secretsmanager.NewFromConfig(c) }

// secretCredentials reads JD credentials from a Secrets Manager secret
// ({"accessKey":…,"secretKey":…}) once per cold start and caches them; a
// 401 from JD Cloud makes the client ask for one re-read (a rotated key).
type secretCredentials struct {
	api secretsAPI
	id  string

	mu     sync.Mutex
	cached jdcloud.Credentials
	loaded bool
}

// newSecretCredentials reads the secret now, so a misconfiguration shows at
// start; a transient failure is tolerated and retried on first use.
func newSecretCredentials(ctx context.Context, api secretsAPI, id string) (*secretCredentials, error) {
	s := &secretCredentials{api: api, id: id}
	if _, err := s.Credentials(ctx); err != nil && resizer.ErrorCode(err) == resizer.CodeAuthFailed {
		return nil, err
	}
	return s, nil
}

func (s *secretCredentials) Credentials(ctx context.Context) (jdcloud.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return s.cached, nil
	}
	c, err := s.read(ctx)
	if err != nil {
		return c, err
	}
	s.cached, s.loaded = c, true
	return c, nil
}

func (s *secretCredentials) Refresh(ctx context.Context) (jdcloud.Credentials, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.read(ctx)
	if err != nil {
		return s.cached, false, err
	}
	changed := c != s.cached
	s.cached, s.loaded = c, true
	return c, changed, nil
}

func (s *secretCredentials) read(ctx context.Context) (jdcloud.Credentials, error) {
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		code := resizer.CodeUnavailable
		switch {
		case ctx.Err() != nil:
			// The caller's deadline, not Secrets Manager, ended the read.
			code = resizer.CodeTimeout
		case isPermanent(err):
			code = resizer.CodeAuthFailed
		}
		return jdcloud.Credentials{}, &resizer.Error{Code: code, Message: "reading JD Cloud credentials from JDCLOUD_CREDENTIALS_SECRET " + s.id + ": " + err.Error(), Err: err}
	}
	var v struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	// The secret's text is never echoed: a parse error could quote it.
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &v) != nil || v.AccessKey == "" || v.SecretKey == "" {
		return jdcloud.Credentials{}, &resizer.Error{Code: resizer.CodeAuthFailed,
			Message: "JDCLOUD_CREDENTIALS_SECRET " + s.id + ` must hold JSON {"accessKey":"…","secretKey":"…"}`}
	}
	return jdcloud.Credentials{AccessKey: v.AccessKey, SecretKey: v.SecretKey}, nil
}

// isPermanent tells a misconfiguration (no such secret, no permission on it
// or on its KMS key, a secret scheduled for deletion) from an outage: only
// the latter is worth retrying, and the former must stop the start.
func isPermanent(err error) bool {
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure",
		"InvalidParameterException", "InvalidRequestException":
		return true
	}
	return false
}
