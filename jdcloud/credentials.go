package jdcloud

import "context"

// CredentialSource gives the Client the access key pair to sign with. It is
// an interface because the keys may live outside the process (Secrets
// Manager) and be rotated while it runs: a 401 makes the Client call Refresh
// once and, if the keys changed, retry with the new ones. The Client also
// retries when Refresh says changed=false but hands back keys other than
// the ones the refused request was signed with (another call refreshed
// first). Implementations must be safe for concurrent use.
type CredentialSource interface {
	Credentials(ctx context.Context) (Credentials, error)
	// Refresh re-reads credentials (e.g. from Secrets Manager) after a 401;
	// changed=false if same.
	Refresh(ctx context.Context) (c Credentials, changed bool, err error)
}

// StaticCredentials is a fixed key pair (JDCLOUD_ACCESS_KEY and
// JDCLOUD_SECRET_KEY): Refresh has nothing else to read, so a 401 is final.
type StaticCredentials Credentials

var _ CredentialSource = StaticCredentials{}

// Credentials returns the pair.
func (s StaticCredentials) Credentials(context.Context) (Credentials, error) {
	return Credentials(s), nil
}

// Refresh returns the same pair with changed=false.
func (s StaticCredentials) Refresh(context.Context) (Credentials, bool, error) {
	return Credentials(s), false, nil
}

// String redacts the secret key: StaticCredentials is a distinct type, so it
// does not inherit Credentials.String, and a stray %v must not leak it.
func (s StaticCredentials) String() string { return Credentials(s).String() }

// GoString redacts the secret key for %#v too.
func (s StaticCredentials) GoString() string { return Credentials(s).String() }
