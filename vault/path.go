package vault

import (
	"fmt"
	"strings"
	"time"
)

// maxSegmentLen is the maximum length of an app, tenant or owner id.
const maxSegmentLen = 128

// statesFolder is the folder under the prefix that contains the markers of
// consumed OAuth states. Its leading underscore keeps it apart from app ids,
// which must not start with "_".
const statesFolder = "_states"

// Key names one linked account. Each field becomes one segment of the Vault
// path, so each must pass ValidateSegment.
type Key struct{ App, Tenant, Owner string }

// String returns the key as "app/tenant/owner", for logs and messages.
func (k Key) String() string {
	return k.App + "/" + k.Tenant + "/" + k.Owner
}

// validate checks the three segments of the key.
func (k Key) validate() error {
	if err := ValidateSegment("app", k.App); err != nil {
		return err
	}
	if err := ValidateSegment("tenant", k.Tenant); err != nil {
		return err
	}
	return ValidateSegment("owner", k.Owner)
}

// ValidateSegment checks an id that becomes one segment of a Vault path: an
// app, tenant or owner id. A valid id has 1 to 128 characters from
// A-Z a-z 0-9 . _ - @ and starts with neither "." (which rules out "." and
// "..") nor "_" (reserved for the store's own folders). The error names the
// kind of id and quotes the value, because ids are not secrets.
func ValidateSegment(kind, value string) error {
	if isValidSegment(value) {
		return nil
	}
	return fmt.Errorf("invalid %s %s: use 1 to %d characters from A-Z a-z 0-9 . _ - @, not starting with . or _",
		kind, quoteShort(value), maxSegmentLen)
}

func isValidSegment(value string) bool {
	if value == "" || len(value) > maxSegmentLen {
		return false
	}
	if value[0] == '.' || value[0] == '_' {
		return false
	}
	for i := 0; i < len(value); i++ {
		if !isSegmentByte(value[i]) {
			return false
		}
	}
	return true
}

func isSegmentByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '-', c == '@':
		return true
	default:
		return false
	}
}

// cleanStorePath validates the mount or the prefix from Config and returns it
// without leading or trailing slashes. Each segment must be non-empty, use only
// A-Z a-z 0-9 . _ - and must not be "." or "..". Only the prefix may contain
// slashes.
func cleanStorePath(field, value string, allowSlash bool) (string, error) {
	cleaned := strings.Trim(value, "/")

	segments := []string{cleaned}
	if allowSlash {
		segments = strings.Split(cleaned, "/")
	}

	for _, segment := range segments {
		if !isValidStoreSegment(segment) {
			return "", fmt.Errorf("invalid %s %s: %s", field, quoteShort(value), storePathRule(allowSlash))
		}
	}
	return cleaned, nil
}

func storePathRule(allowSlash bool) string {
	if allowSlash {
		return "use one or more non-empty segments separated by /, each of characters from A-Z a-z 0-9 . _ - and not . or .."
	}
	return "use one non-empty segment of characters from A-Z a-z 0-9 . _ - that is not . or .."
}

func isValidStoreSegment(segment string) bool {
	if segment == "" || segment == "." || segment == ".." {
		return false
	}
	for i := 0; i < len(segment); i++ {
		c := segment[i]
		if c == '@' || !isSegmentByte(c) {
			return false
		}
	}
	return true
}

// quoteShort quotes a value for an error message, cut to a length that keeps
// the message readable.
func quoteShort(value string) string {
	const maxQuoted = maxSegmentLen + 8
	if len(value) > maxQuoted {
		return fmt.Sprintf("%q...", value[:maxQuoted])
	}
	return fmt.Sprintf("%q", value)
}

// accountPath returns the secret path of an account, relative to the mount.
func (s *Store) accountPath(key Key) string {
	return s.prefix + "/" + key.App + "/" + key.Tenant + "/" + key.Owner
}

// ownersPath returns the folder that contains the owners of one tenant,
// relative to the mount.
func (s *Store) ownersPath(app, tenant string) string {
	return s.prefix + "/" + app + "/" + tenant
}

// stateHourLayout names the folder of state markers by the UTC hour in
// which their states expire.
const stateHourLayout = "2006010215"

// statePath returns the secret path of the marker of a consumed state,
// relative to the mount: <prefix>/_states/<expiry hour>/<digest>. The name
// is a hex SHA-256 digest, so that the state value itself never reaches
// Vault's paths or audit logs, and the hour folder lets expired markers be
// removed without reading them.
func (s *Store) statePath(expiresAt time.Time, digestHex string) string {
	return s.prefix + "/" + statesFolder + "/" + expiresAt.UTC().Format(stateHourLayout) + "/" + digestHex
}
