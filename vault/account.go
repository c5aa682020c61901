package vault

import (
	"encoding/json"
	"fmt"
	"time"
)

// Values of Account.Status.
const (
	// StatusActive marks an account whose token can be used.
	StatusActive = "active"

	// StatusReauthorizationRequired marks an account whose token was revoked
	// or expired: the owner must link the account again.
	StatusReauthorizationRequired = "reauthorization_required"
)

// Account is the stored record of one linked account. Times are stored in
// UTC as RFC 3339 with nanoseconds and read back exactly. A zero time is
// stored as an empty string.
type Account struct {
	AccessToken  string
	TokenType    string
	ExpiresAt    time.Time
	IssuedAt     time.Time
	UserID       string // platform user id as exact decimal digits
	Username     string
	Scopes       []string
	LinkedAt     time.Time
	RefreshedAt  time.Time // zero until the first refresh
	Status       string    // StatusActive or StatusReauthorizationRequired
	StatusReason string

	// RefreshLeaseHolder and RefreshLeaseUntil name the gateway instance
	// that is refreshing the token and until when, so that instances
	// sharing the Vault do not refresh one token twice. Both are zero when
	// no refresh runs. Records written before these fields existed read as
	// zero.
	RefreshLeaseHolder string
	RefreshLeaseUntil  time.Time
}

// Field names of an account secret in Vault.
const (
	fieldAccessToken  = "access_token"
	fieldTokenType    = "token_type"
	fieldExpiresAt    = "expires_at"
	fieldIssuedAt     = "issued_at"
	fieldUserID       = "user_id"
	fieldUsername     = "username"
	fieldScopes       = "scopes"
	fieldLinkedAt     = "linked_at"
	fieldRefreshedAt  = "refreshed_at"
	fieldStatus       = "status"
	fieldStatusReason = "status_reason"
	fieldLeaseHolder  = "refresh_lease_holder"
	fieldLeaseUntil   = "refresh_lease_until"
)

// encodeAccount returns the secret data for an account.
func encodeAccount(a *Account) (map[string]any, error) {
	if a == nil {
		return nil, fmt.Errorf("missing account: nil *Account")
	}
	if err := validateStatus(a.Status); err != nil {
		return nil, err
	}

	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}

	return map[string]any{
		fieldAccessToken:  a.AccessToken,
		fieldTokenType:    a.TokenType,
		fieldExpiresAt:    formatTime(a.ExpiresAt),
		fieldIssuedAt:     formatTime(a.IssuedAt),
		fieldUserID:       a.UserID,
		fieldUsername:     a.Username,
		fieldScopes:       scopes,
		fieldLinkedAt:     formatTime(a.LinkedAt),
		fieldRefreshedAt:  formatTime(a.RefreshedAt),
		fieldStatus:       a.Status,
		fieldStatusReason: a.StatusReason,
		fieldLeaseHolder:  a.RefreshLeaseHolder,
		fieldLeaseUntil:   formatTime(a.RefreshLeaseUntil),
	}, nil
}

// decodeAccount parses the secret data of an account. Every field written by
// encodeAccount must be present with its type, except the refresh lease,
// which older records lack. Unknown fields are ignored, so
// that a later version may add fields. No error quotes the access token.
//
// A user id stored as a JSON number is rejected: Vault 1.21 keeps numbers as
// float64, so ids above 2^53 have already lost digits.
func decodeAccount(data map[string]any) (*Account, error) {
	d := decoder{data: data}

	a := &Account{
		AccessToken:  d.stringField(fieldAccessToken),
		TokenType:    d.stringField(fieldTokenType),
		ExpiresAt:    d.timeField(fieldExpiresAt),
		IssuedAt:     d.timeField(fieldIssuedAt),
		UserID:       d.stringField(fieldUserID),
		Username:     d.stringField(fieldUsername),
		Scopes:       d.stringsField(fieldScopes),
		LinkedAt:     d.timeField(fieldLinkedAt),
		RefreshedAt:  d.timeField(fieldRefreshedAt),
		Status:       d.stringField(fieldStatus),
		StatusReason: d.stringField(fieldStatusReason),
	}
	if _, ok := data[fieldLeaseHolder]; ok {
		a.RefreshLeaseHolder = d.stringField(fieldLeaseHolder)
		a.RefreshLeaseUntil = d.timeField(fieldLeaseUntil)
	}
	if d.err != nil {
		return nil, d.err
	}

	if err := validateStatus(a.Status); err != nil {
		return nil, err
	}
	return a, nil
}

func validateStatus(status string) error {
	switch status {
	case StatusActive, StatusReauthorizationRequired:
		return nil
	default:
		return fmt.Errorf("invalid status %q: use %q or %q", status, StatusActive, StatusReauthorizationRequired)
	}
}

// formatTime returns t in UTC as RFC 3339 with up to nanosecond precision, or
// an empty string for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// decoder reads typed fields from secret data and keeps the first error, so
// that decodeAccount reads as a plain list of fields.
type decoder struct {
	data map[string]any
	err  error
}

func (d *decoder) field(name string) (any, bool) {
	if d.err != nil {
		return nil, false
	}

	value, ok := d.data[name]
	if !ok {
		d.err = fmt.Errorf("missing field %q", name)
		return nil, false
	}
	return value, true
}

// stringField reads a string field. Its error names the field and the type found,
// never the value, since the field may contain the access token.
func (d *decoder) stringField(name string) string {
	value, ok := d.field(name)
	if !ok {
		return ""
	}

	text, ok := value.(string)
	if !ok {
		d.err = fmt.Errorf("field %q: expected a string, found %s", name, jsonType(value))
		return ""
	}
	return text
}

// timeField reads an RFC 3339 time, or the zero time from an empty string.
func (d *decoder) timeField(name string) time.Time {
	text := d.stringField(name)
	if d.err != nil || text == "" {
		return time.Time{}
	}

	parsed, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		d.err = fmt.Errorf("field %q: invalid RFC 3339 time %q", name, text)
		return time.Time{}
	}
	return parsed.UTC()
}

// stringsField reads an array of strings.
func (d *decoder) stringsField(name string) []string {
	value, ok := d.field(name)
	if !ok {
		return nil
	}

	items, ok := value.([]any)
	if !ok {
		d.err = fmt.Errorf("field %q: expected an array of strings, found %s", name, jsonType(value))
		return nil
	}

	result := make([]string, 0, len(items))
	for i, item := range items {
		text, ok := item.(string)
		if !ok {
			d.err = fmt.Errorf("field %q: item %d: expected a string, found %s", name, i, jsonType(item))
			return nil
		}
		result = append(result, text)
	}
	return result
}

// jsonType names the JSON type of a decoded value.
func jsonType(value any) string {
	switch value.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", value)
	}
}
