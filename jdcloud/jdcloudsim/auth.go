package jdcloudsim

import (
	"net/http"
	"strings"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

// authenticate checks the JDCLOUD2-HMAC-SHA256 signature and that it was
// made for the path's region, as JD's gateway does: a signature scoped to
// another region is refused even though the key is valid. It returns the
// access key the request claims (empty when it claims none). Messages
// never include anything derived from a secret.
func (s *Server) authenticate(r *http.Request, body []byte, pathRegion string) (string, *apiError) {
	auth := r.Header.Get(jdcloud.HeaderAuth)
	if auth == "" {
		return "", unauthenticated("missing Authorization header")
	}
	accessKey, ok := jdcloud.Verify(r, body, s.lookup, signingService)
	if !ok {
		if accessKey == "" {
			return "", unauthenticated("malformed Authorization header")
		}
		if _, known := s.creds[accessKey]; !known {
			return accessKey, unauthenticated("unknown access key %s", accessKey)
		}
		return accessKey, unauthenticated("signature does not match the request")
	}
	if scope := scopeRegion(auth); pathRegion != "" && scope != pathRegion {
		return accessKey, unauthenticated("credential scope region %q does not match the request's region %q", scope, pathRegion)
	}
	return accessKey, nil
}

func (s *Server) lookup(accessKey string) (jdcloud.Credentials, bool) {
	c, ok := s.creds[accessKey]
	return c, ok
}

// scopeRegion extracts {region} from "… Credential={ak}/{date}/{region}/vm/jdcloud2_request, …";
// Verify has already checked the shape.
func scopeRegion(auth string) string {
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	fields := strings.Split(cred, "/")
	if len(fields) != 5 {
		return ""
	}
	return fields[2]
}
