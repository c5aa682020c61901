package igserver

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// graphParams merges the query string with the body parameters of r. A JSON
// body is accepted as well as a form: its strings become plain values and
// every other JSON value keeps its JSON text, so {"limit":10.0} fails the
// integer check as limit=10.0 does.
func graphParams(r *http.Request, body []byte) (url.Values, *graphError) {
	params := r.URL.Query()
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil
	}

	var bodyParams url.Values
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		var err *graphError
		if bodyParams, err = jsonParams(body); err != nil {
			return nil, err
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		form, ok := parseBodyForm(r)
		if !ok {
			return nil, invalidParam("Invalid form body")
		}
		bodyParams = form
	default:
		return nil, invalidParam("Unsupported Content-Type %q: send a form or JSON", r.Header.Get("Content-Type"))
	}

	for name, values := range bodyParams {
		params[name] = append(params[name], values...)
	}
	return params, nil
}

func jsonParams(body []byte) (url.Values, *graphError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, invalidParam("Invalid JSON body: expected an object")
	}

	params := make(url.Values, len(fields))
	for name, raw := range fields {
		var text string
		if err := json.Unmarshal(raw, &text); err == nil {
			params.Set(name, text)
			continue
		}

		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, invalidParam("Invalid JSON body: param %s", name)
		}
		if compact.String() != "null" {
			params.Set(name, compact.String())
		}
	}
	return params, nil
}

// paramChecker reads and validates Graph API parameters. It keeps the first
// failure in err, and every later read returns a zero value.
type paramChecker struct {
	values url.Values
	err    *graphError
}

func (c *paramChecker) fail(format string, args ...any) {
	if c.err == nil {
		c.err = invalidParam(format, args...)
	}
}

// value returns the single value of name. A parameter given twice fails,
// because every value, JSON-encoded arrays included, must arrive as one.
func (c *paramChecker) value(name string) (string, bool) {
	values, ok := c.values[name]
	if !ok || c.err != nil {
		return "", false
	}
	if len(values) > 1 {
		c.fail("Param %s must be sent once, got %d values", name, len(values))
		return "", false
	}
	return values[0], true
}

func (c *paramChecker) required(name string) string {
	v, ok := c.value(name)
	if c.err == nil && (!ok || v == "") {
		c.fail("The parameter %s is required", name)
	}
	return v
}

// integer parses name as a base-10 integer of at least minimum. Floats such
// as 10.0 fail.
func (c *paramChecker) integer(name string, minimum int64) (int64, bool) {
	v, ok := c.value(name)
	if !ok {
		return 0, false
	}

	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		c.fail("Param %s must be an integer, got %q", name, v)
		return 0, false
	}
	if n < minimum {
		c.fail("Param %s must be at least %d, got %d", name, minimum, n)
		return 0, false
	}
	return n, true
}

// boolean parses name, which must be exactly true or false.
func (c *paramChecker) boolean(name string) (bool, bool) {
	v, ok := c.value(name)
	if !ok {
		return false, false
	}

	switch v {
	case "true":
		return true, true
	case "false":
		return false, true
	default:
		c.fail("Param %s must be a boolean (true or false), got %q", name, v)
		return false, false
	}
}

func (c *paramChecker) requiredBoolean(name string) bool {
	b, ok := c.boolean(name)
	if c.err == nil && !ok {
		c.fail("The parameter %s is required", name)
	}
	return b
}

// enum returns name when it is absent or one of allowed.
func (c *paramChecker) enum(name string, allowed ...string) string {
	v, ok := c.value(name)
	if !ok {
		return ""
	}

	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	c.fail("Param %s must be one of {%s}, got %q", name, strings.Join(allowed, ", "), v)
	return ""
}

// tagArray checks that name, when present, is one JSON-encoded array of
// objects, each with a non-empty string under key and optional x and y
// coordinates between 0 and 1.
func (c *paramChecker) tagArray(name, key string) {
	v, ok := c.value(name)
	if !ok {
		return
	}

	var tags []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &tags); err != nil {
		c.fail("Param %s must be a JSON-encoded array of objects", name)
		return
	}
	for i, tag := range tags {
		var id string
		if err := json.Unmarshal(tag[key], &id); err != nil || id == "" {
			c.fail("Param %s[%d] must have a non-empty string %s", name, i, key)
			return
		}
		for _, axis := range []string{"x", "y"} {
			raw, present := tag[axis]
			if !present {
				continue
			}
			var coordinate float64
			if err := json.Unmarshal(raw, &coordinate); err != nil || coordinate < 0 || coordinate > 1 {
				c.fail("Param %s[%d].%s must be a number from 0 to 1", name, i, axis)
				return
			}
		}
	}
}

// object parses the required parameter name as a JSON object.
func (c *paramChecker) object(name string) map[string]json.RawMessage {
	v := c.required(name)
	if c.err != nil {
		return nil
	}

	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &obj); err != nil || obj == nil {
		c.fail("Param %s must be a JSON object", name)
		return nil
	}
	return obj
}

// objectString returns the string under key in obj, the parameter name.
func (c *paramChecker) objectString(obj map[string]json.RawMessage, name, key string, required bool) string {
	raw, ok := obj[key]
	if !ok || c.err != nil {
		if required {
			c.fail("The parameter %s.%s is required", name, key)
		}
		return ""
	}

	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.fail("Param %s.%s must be a string", name, key)
		return ""
	}
	if required && s == "" {
		c.fail("The parameter %s.%s is required", name, key)
	}
	return s
}

// fields returns the field names of the fields parameter. Nested selections
// and modifiers, as in messages{from,to} or comments.limit(5), are allowed
// and yield only the top-level name.
func (c *paramChecker) fields() []string {
	v, _ := c.value("fields")
	return fieldNames(v)
}

func fieldNames(list string) []string {
	var names []string
	depth, start := 0, 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) {
			switch list[i] {
			case '{', '(':
				depth++
				continue
			case '}', ')':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}

		item := list[start:i]
		start = i + 1
		if end := strings.IndexAny(item, "{.("); end >= 0 {
			item = item[:end]
		}
		if item = strings.TrimSpace(item); item != "" {
			names = append(names, item)
		}
	}
	return names
}
