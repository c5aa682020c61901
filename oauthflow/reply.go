package oauthflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxExpiresIn keeps expires_in far below the time.Duration limit. A
// hundred years is beyond any token lifetime.
const maxExpiresIn = 100 * 365 * 24 * time.Hour

// stringMember returns a string member of a reply, or "" when it is absent
// or null.
func stringMember(object map[string]any, name string) (string, error) {
	switch value := object[name].(type) {
	case nil:
		return "", nil
	case string:
		return value, nil
	default:
		return "", fmt.Errorf("reply member %q is not a string", name)
	}
}

// integerMember returns the exact decimal digits of an id given as a JSON
// number or a string, or "" when it is absent or null. The digits never
// pass through float64.
func integerMember(object map[string]any, name string) (string, error) {
	var digits string
	switch value := object[name].(type) {
	case nil:
		return "", nil
	case json.Number:
		digits = value.String()
	case string:
		digits = strings.TrimSpace(value)
	default:
		return "", fmt.Errorf("reply member %q is not a number or a string", name)
	}

	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", fmt.Errorf("reply member %q is not a decimal integer", name)
	}
	return digits, nil
}

// listMember returns a list given as an array of strings or as a
// comma-separated string, or nil when it is absent or null.
func listMember(object map[string]any, name string) ([]string, error) {
	var items []string
	switch value := object[name].(type) {
	case nil:
		return nil, nil
	case string:
		items = strings.Split(value, ",")
	case []any:
		for _, element := range value {
			item, ok := element.(string)
			if !ok {
				return nil, fmt.Errorf("reply member %q contains an element that is not a string", name)
			}
			items = append(items, item)
		}
	default:
		return nil, fmt.Errorf("reply member %q is not an array or a string", name)
	}

	list := make([]string, 0, len(items))
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list, nil
}

// secondsMember returns a positive lifetime in seconds, given as a JSON
// number or a numeric string. An absent, zero or negative value is an
// error, because the caller cannot schedule a refresh without it.
//
// NOTE: a provider that omits expires_in for tokens that never expire is
// rejected here, as is a lifetime written with a fraction.
func secondsMember(object map[string]any, name string) (time.Duration, error) {
	var text string
	switch value := object[name].(type) {
	case nil:
		return 0, fmt.Errorf("reply is missing %s", name)
	case json.Number:
		text = value.String()
	case string:
		text = strings.TrimSpace(value)
	default:
		return 0, fmt.Errorf("reply member %q is not a number or a string", name)
	}

	seconds, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reply member %q is not an integer number of seconds", name)
	}
	if seconds <= 0 {
		return 0, fmt.Errorf("reply member %q is %d, expected a positive number of seconds", name, seconds)
	}
	if seconds > int64(maxExpiresIn/time.Second) {
		return 0, fmt.Errorf("reply member %q is %d, more than the maximum of %d seconds", name, seconds, int64(maxExpiresIn/time.Second))
	}
	return time.Duration(seconds) * time.Second, nil
}
