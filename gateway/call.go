package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/credgate/credgate/apps"
)

// tool is one function in the OpenAI-style tool-calling shape.
type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// serveFunctionList serves GET /functions with every function as a tool
// definition that OpenAI-style tool calling accepts as it is. The route of
// each function ends its description, because the tool shape has no field
// for it.
func (g *Gateway) serveFunctionList(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"%s /functions is not supported; use GET to list functions or POST /functions/<NAME> to call one", r.Method))
		return
	}
	tools := make([]tool, 0, len(g.cfg.App.Functions))
	for _, fn := range g.cfg.App.Functions {
		tools = append(tools, tool{Type: "function", Function: toolFunction{
			Name:        fn.Name,
			Description: fmt.Sprintf("%s Route: %s %s.", fn.Description, fn.Method, fn.Path),
			Parameters:  fn.Parameters,
		}})
	}
	writeJSON(w, http.StatusOK, tools)
}

// serveFunctionCall serves POST /functions/<NAME> with a body of
// {"path":{…},"query":{…},"body":{…}}.
func (g *Gateway) serveFunctionCall(w http.ResponseWriter, r *http.Request, name string) {
	fn := g.cfg.App.Function(name)
	if fn == nil {
		writeError(w, newError(http.StatusNotFound, CodeUnknownFunction,
			"unknown function %q; GET /functions lists the functions of %s", name, g.cfg.App.Name))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"%s /functions/%s is not supported; use POST with a JSON body {\"path\":{},\"query\":{},\"body\":{}}", r.Method, name))
		return
	}

	data, gerr := readBody(w, r)
	if gerr != nil {
		writeError(w, gerr)
		return
	}
	args, err := decodeFunctionArguments(data)
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidArguments, "invalid arguments for %s: %v", name, err))
		return
	}
	g.stripClientCredentials(&args)

	if err := fn.Validate(args); err != nil {
		writeError(w, argumentError(err))
		return
	}
	g.call(w, r, fn, args)
}

// decodeFunctionArguments reads a function-mode body. An empty body means
// no arguments.
func decodeFunctionArguments(data []byte) (apps.Arguments, error) {
	var args apps.Arguments
	if len(strings.TrimSpace(string(data))) == 0 {
		return args, nil
	}
	obj, err := apps.DecodeJSONObject(data)
	if err != nil {
		return args, fmt.Errorf("the body must be a JSON object with the members path, query and body: %v", err)
	}
	for member, value := range obj {
		section, ok := value.(map[string]any)
		if !ok && value != nil {
			return args, fmt.Errorf("%s must be a JSON object", member)
		}
		switch member {
		case apps.SectionPath:
			args.Path = section
		case apps.SectionQuery:
			args.Query = section
		case apps.SectionBody:
			args.Body = section
		default:
			return args, fmt.Errorf("unknown member %q: use path, query and body", member)
		}
	}
	return args, nil
}

// serveRoute maps a plain API request, such as GET /me/media?limit=5, to a
// declared function by method and path template.
func (g *Gateway) serveRoute(w http.ResponseWriter, r *http.Request) {
	segments, err := apps.SplitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidArguments, "invalid request path: %v", err))
		return
	}
	matches := g.cfg.App.MatchRoute(r.Method, segments)
	if len(matches) == 0 {
		writeError(w, newError(http.StatusNotFound, CodeUnknownRoute,
			"no %s function matches %s %s; GET /functions lists the functions and their paths", g.cfg.App.Name, r.Method, r.URL.EscapedPath()))
		return
	}

	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidArguments, "invalid query string: %v", err))
		return
	}
	for _, name := range g.cfg.App.Credential.StripQuery {
		query.Del(name)
	}
	body, gerr := readBody(w, r)
	if gerr != nil {
		writeError(w, gerr)
		return
	}

	// several functions may share a template; the first that fits wins
	var failures []error
	for _, match := range matches {
		args, err := routeArguments(match, query, r.Header.Get("Content-Type"), body)
		if err == nil {
			err = match.Function.Validate(args)
		}
		if err == nil {
			g.call(w, r, match.Function, args)
			return
		}
		failures = append(failures, err)
	}
	writeError(w, routeArgumentError(failures))
}

func routeArguments(match apps.RouteMatch, query url.Values, contentType string, body []byte) (apps.Arguments, error) {
	fn := match.Function
	args := apps.Arguments{Path: match.Path}

	q, err := fn.ReadQuery(query)
	if err != nil {
		return args, err
	}
	args.Query = q

	if len(body) == 0 {
		return args, nil
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "application/json", "":
		obj, err := apps.DecodeJSONObject(body)
		if err != nil {
			return args, &apps.ArgumentError{Function: fn.Name, Problems: []string{"body: invalid JSON object: " + err.Error()}}
		}
		args.Body = obj
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return args, &apps.ArgumentError{Function: fn.Name, Problems: []string{"body: invalid form encoding: " + err.Error()}}
		}
		args.Body, err = fn.ReadForm(form)
		if err != nil {
			return args, err
		}
	default:
		return args, &apps.ArgumentError{Function: fn.Name, Problems: []string{
			fmt.Sprintf("body: unsupported Content-Type %q; send application/json or application/x-www-form-urlencoded", mediaType),
		}}
	}
	return args, nil
}

// stripClientCredentials drops parameters that could carry a client's own
// token, so the only credential upstream is the one the gateway injects.
func (g *Gateway) stripClientCredentials(args *apps.Arguments) {
	for _, name := range g.cfg.App.Credential.StripQuery {
		delete(args.Query, name)
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
				"the request body is larger than %d bytes", maxBodyBytes)
		}
		return nil, newError(http.StatusBadRequest, CodeInvalidArguments, "reading the request body failed: %v", err)
	}
	return data, nil
}

func argumentError(err error) *Error {
	return newError(http.StatusBadRequest, CodeInvalidArguments, "%v", err)
}

func routeArgumentError(failures []error) *Error {
	if len(failures) == 1 {
		return argumentError(failures[0])
	}
	messages := make([]string, 0, len(failures))
	for _, err := range failures {
		messages = append(messages, err.Error())
	}
	sort.Strings(messages)
	return newError(http.StatusBadRequest, CodeInvalidArguments,
		"the request fits none of the %d functions with this method and path: %s", len(failures), strings.Join(messages, " | "))
}
