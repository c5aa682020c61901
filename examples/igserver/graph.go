package igserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// supportedVersions are the Graph API versions the server accepts.
var supportedVersions = map[string]bool{
	"v21.0": true,
	"v22.0": true,
	"v23.0": true,
	"v24.0": true,
	"v25.0": true,
}

// Usage counters of the X-App-Usage and X-Business-Use-Case-Usage headers
// grow with each Graph API call and stop at maxUsagePercent, below the
// levels at which clients usually start to slow down.
const maxUsagePercent = 50

// graphCall is one Graph API request after parsing.
type graphCall struct {
	method   string
	segments []string   // unescaped path segments after the version
	params   url.Values // query and body parameters, access_token removed
	now      time.Time
}

func (c *graphCall) checker() *paramChecker {
	return &paramChecker{values: c.params}
}

// graphHandler serves one matched Graph API route. It runs with s.mu held
// and returns the reply to encode as JSON, or an error.
type graphHandler func(c *graphCall) (any, *graphError)

// graphRoute is the handler for a request and the function it stands for.
type graphRoute struct {
	function string
	handle   graphHandler
}

// serveGraph serves a Graph API call under /{version}/. The route is
// matched before the token is checked, so Request.Function is recorded even
// for calls with a bad token.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, body []byte, record *Request) {
	// parse what needs no server state
	segments, gerr := graphPath(r.URL.EscapedPath())
	var params url.Values
	if gerr == nil {
		params, gerr = graphParams(r, body)
	}
	var accessToken string
	if gerr == nil {
		accessToken = accessTokenOf(r, params)
		delete(params, "access_token")
		gerr = checkParamNames(params)
	}

	// route, authenticate and run
	var reply any
	s.mu.Lock()
	if gerr == nil {
		call := &graphCall{method: r.Method, segments: segments, params: params, now: s.now()}
		route := s.route(call)
		record.Function = route.function
		if _, gerr = s.checkToken(accessToken, call.now); gerr == nil {
			reply, gerr = route.handle(call)
		}
	}
	s.graphCalls++
	appUsage, businessUsage := s.usageHeaders()
	s.mu.Unlock()

	w.Header().Set("X-App-Usage", appUsage)
	w.Header().Set("X-Business-Use-Case-Usage", businessUsage)
	if gerr != nil {
		writeGraphError(w, gerr)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// graphPath checks the version segment of an escaped path and returns the
// other segments unescaped one by one, so an id sent with %2F stays one
// segment.
func graphPath(escaped string) ([]string, *graphError) {
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(escaped, "/"), "/"), "/")

	// NOTE: graph.instagram.com also serves unversioned paths with its
	// default version. This server rejects them, so clients must send one.
	if !supportedVersions[parts[0]] {
		return nil, invalidParam("Unsupported API version: the path must start with a version from v21.0 to v25.0")
	}

	segments := make([]string, 0, len(parts)-1)
	for _, part := range parts[1:] {
		segment, err := url.PathUnescape(part)
		if err != nil {
			return nil, invalidParam("Invalid path segment escaping")
		}
		segments = append(segments, segment)
	}
	return segments, nil
}

// checkParamNames rejects PHP-style names such as user_tags[0][username],
// because arrays and objects must arrive as one JSON-encoded value.
func checkParamNames(params url.Values) *graphError {
	for name := range params {
		if strings.ContainsAny(name, "[]") {
			return invalidParam("Param %s is not supported: send arrays and objects as one JSON-encoded value", name)
		}
	}
	return nil
}

type businessUsage struct {
	Type                        string `json:"type"`
	CallCount                   int    `json:"call_count"`
	TotalCPUTime                int    `json:"total_cputime"`
	TotalTime                   int    `json:"total_time"`
	EstimatedTimeToRegainAccess int    `json:"estimated_time_to_regain_access"` // minutes
}

type appUsage struct {
	CallCount    int `json:"call_count"`
	TotalCPUTime int `json:"total_cputime"`
	TotalTime    int `json:"total_time"`
}

// usageHeaders returns the values of X-App-Usage and
// X-Business-Use-Case-Usage, in percent of a budget. The caller holds s.mu.
func (s *Server) usageHeaders() (string, string) {
	calls := min(s.graphCalls, maxUsagePercent)
	cpuTime := min((s.graphCalls+1)/2, maxUsagePercent)

	app, _ := json.Marshal(appUsage{CallCount: calls, TotalCPUTime: cpuTime, TotalTime: cpuTime})
	business, _ := json.Marshal(map[string][]businessUsage{
		s.account.UserID: {{Type: "instagram", CallCount: calls, TotalCPUTime: cpuTime, TotalTime: cpuTime}},
	})
	return string(app), string(business)
}
