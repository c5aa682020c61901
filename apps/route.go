package apps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// segment is one part of a path template: a literal or a {parameter}.
type segment struct {
	value string
	param bool
}

func parseTemplate(template string) ([]segment, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, fmt.Errorf("path template %q must start with /", template)
	}
	if template == "/" {
		return nil, nil
	}

	var segments []segment
	for _, part := range strings.Split(template[1:], "/") {
		switch {
		case part == "":
			return nil, fmt.Errorf("path template %q has an empty segment", template)
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if name == "" || strings.ContainsAny(name, "{}") {
				return nil, fmt.Errorf("path template %q has an invalid parameter %q", template, part)
			}
			segments = append(segments, segment{value: name, param: true})
		case strings.ContainsAny(part, "{}?#%"):
			return nil, fmt.Errorf("path template %q: segment %q must be a whole {parameter} or plain text", template, part)
		default:
			segments = append(segments, segment{value: part})
		}
	}
	return segments, nil
}

// SplitPath splits an escaped request path into unescaped segments, so an
// escaped slash stays inside its segment.
func SplitPath(escapedPath string) ([]string, error) {
	if !strings.HasPrefix(escapedPath, "/") {
		return nil, fmt.Errorf("path %q must start with /", escapedPath)
	}
	if escapedPath == "/" {
		return nil, nil
	}
	parts := strings.Split(escapedPath[1:], "/")
	for i, part := range parts {
		unescaped, err := url.PathUnescape(part)
		if err != nil {
			return nil, fmt.Errorf("path segment %q is not valid percent-encoding", part)
		}
		parts[i] = unescaped
	}
	return parts, nil
}

// match returns the path parameters when segments fit the template.
func (f *Function) match(segments []string) (map[string]any, bool) {
	if len(segments) != len(f.segments) {
		return nil, false
	}
	var params map[string]any
	for i, seg := range f.segments {
		if seg.param {
			if params == nil {
				params = make(map[string]any)
			}
			params[seg.value] = segments[i]
			continue
		}
		if segments[i] != seg.value {
			return nil, false
		}
	}
	return params, true
}

func (f *Function) literalCount() int {
	n := 0
	for _, seg := range f.segments {
		if !seg.param {
			n++
		}
	}
	return n
}

// RouteMatch is one function a request path fits, with the path values.
type RouteMatch struct {
	Function *Function
	Path     map[string]any
}

// MatchRoute returns the functions whose method and template fit the
// request, most specific first: a template with more literal segments wins
// (GET /me is the profile, not GET /{id}), and functions that share the
// winning template are all returned, in file order.
func (a *App) MatchRoute(method string, segments []string) []RouteMatch {
	var matches []RouteMatch
	best := -1
	for _, fn := range a.Functions {
		if fn.Method != method {
			continue
		}
		params, ok := fn.match(segments)
		if !ok {
			continue
		}
		literals := fn.literalCount()
		if literals > best {
			best = literals
			matches = matches[:0]
		}
		if literals == best {
			matches = append(matches, RouteMatch{Function: fn, Path: params})
		}
	}
	return matches
}

// ReadQuery turns query-string values into typed arguments for this
// function: integers, numbers and booleans are parsed by the parameter's
// declared type, and arrays and objects are read as one JSON value. A value
// that does not parse is kept as a string, so the schema check names it.
// A parameter given twice is an error.
func (f *Function) ReadQuery(values url.Values) (map[string]any, error) {
	return f.readStrings(SectionQuery, values)
}

// ReadForm reads a form-encoded body like ReadQuery reads the query.
func (f *Function) ReadForm(values url.Values) (map[string]any, error) {
	return f.readStrings(SectionBody, values)
}

func (f *Function) readStrings(section string, values url.Values) (map[string]any, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(values))
	var problems []string
	for name, list := range values {
		if len(list) != 1 {
			problems = append(problems, fmt.Sprintf("%s.%s is given %d times; send it once", section, name, len(list)))
			continue
		}
		value, problem := parseTyped(f.types[section][name], list[0])
		if problem != "" {
			problems = append(problems, fmt.Sprintf("%s.%s: %s", section, name, problem))
			continue
		}
		out[name] = value
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &ArgumentError{Function: f.Name, Problems: problems}
	}
	return out, nil
}

// maxQuotedValue bounds how much of a rejected value an error repeats.
const maxQuotedValue = 64

// parseTyped reads a query or form value as the declared type. It returns
// a problem that quotes the value and shows how to write it when the value
// does not parse. A value of an undeclared parameter stays a string, and
// the schema check rejects it.
func parseTyped(typ, raw string) (any, string) {
	quoted := strconv.Quote(raw)
	if len(raw) > maxQuotedValue {
		quoted = strconv.Quote(raw[:maxQuotedValue]) + "..."
	}

	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, quoted + " is out of the range of a 64-bit integer"
			}
			return nil, quoted + " is not an integer; write digits only, such as 10"
		}
		return json.Number(raw), ""
	case "number":
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil, quoted + " is not a number; write it such as 0.5"
		}
		return json.Number(raw), ""
	case "boolean":
		switch raw {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, quoted + " is not a boolean; write true or false"
	case "array", "object":
		v, err := decodeJSONValue([]byte(raw))
		if err != nil {
			return nil, fmt.Sprintf("%s is not a JSON %s; send the whole %s as one JSON-encoded value", quoted, typ, typ)
		}
		return v, ""
	}
	return raw, ""
}

// DecodeJSONObject decodes a JSON object keeping numbers exact.
func DecodeJSONObject(data []byte) (map[string]any, error) {
	v, err := decodeJSONValue(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object")
	}
	return obj, nil
}

func decodeJSONValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}
