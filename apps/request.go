package apps

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
)

// UpstreamRequest is a validated call turned into what goes on the wire.
type UpstreamRequest struct {
	Method string

	// Path is the unescaped upstream path, with the API version.
	Path string

	// RawPath is Path with each parameter escaped as one segment, so an id
	// such as "a/b" or "1?x=2" cannot change the path or the query.
	RawPath string

	// RawQuery is the encoded query.
	RawQuery string

	// Body is the JSON body, nil when the function has none.
	Body []byte
}

// BuildRequest turns validated arguments into the upstream request.
// Integers are written as integers, booleans as true or false, and arrays
// and objects in the query as one JSON value.
func (f *Function) BuildRequest(apiVersion string, args Arguments) (*UpstreamRequest, error) {
	req := &UpstreamRequest{Method: f.Method}

	var plain, escaped strings.Builder
	plain.WriteString("/" + apiVersion)
	escaped.WriteString("/" + url.PathEscape(apiVersion))
	for _, seg := range f.segments {
		value := seg.value
		if seg.param {
			s, ok := args.Path[seg.value].(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("path parameter %s is missing", seg.value)
			}
			value = s
		}
		plain.WriteString("/" + value)
		escaped.WriteString("/" + url.PathEscape(value))
	}
	req.Path = plain.String()
	req.RawPath = escaped.String()

	query := url.Values{}
	for name, value := range args.Query {
		encoded, err := encodeQueryValue(f.types[SectionQuery][name], value)
		if err != nil {
			return nil, fmt.Errorf("query.%s: %w", name, err)
		}
		query.Set(name, encoded)
	}
	req.RawQuery = query.Encode()

	if args.Body != nil {
		body, err := json.Marshal(args.Body)
		if err != nil {
			return nil, fmt.Errorf("encoding body: %w", err)
		}
		req.Body = body
	}
	return req, nil
}

func encodeQueryValue(typ string, value any) (string, error) {
	switch v := value.(type) {
	case string:
		return v, nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case json.Number:
		if typ == "integer" {
			// JSON Schema counts 10.0 as an integer; the API does not
			return integerString(v)
		}
		return v.String(), nil
	case nil:
		return "", nil
	default:
		encoded, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(encoded), nil
	}
}

func integerString(n json.Number) (string, error) {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok || !r.IsInt() {
		return "", fmt.Errorf("%s is not an integer", n)
	}
	return r.Num().String(), nil
}
