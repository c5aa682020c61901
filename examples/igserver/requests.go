package igserver

import (
	"net/http"
	"time"
)

// Values of Request.Endpoint.
const (
	endpointAuthorize         = "authorize"
	endpointCodeExchange      = "code_exchange"
	endpointLongLivedExchange = "long_lived_exchange"
	endpointRefresh           = "refresh"
	endpointGraphAPI          = "graph_api"
)

// Request is one request the server received, as recorded for tests. Calls
// to the /__igserver/ controls are not recorded.
type Request struct {
	Time        time.Time `json:"time"`
	Method      string    `json:"method"`
	Path        string    `json:"path"` // as sent, so an escaped slash stays %2F
	RawQuery    string    `json:"raw_query"`
	Body        string    `json:"body"`
	ContentType string    `json:"content_type"`

	// Authorization is the Authorization header as sent, token included.
	Authorization string `json:"authorization"`

	// Endpoint is "authorize", "code_exchange", "long_lived_exchange",
	// "refresh" or "graph_api".
	Endpoint string `json:"endpoint"`

	// Function is the Instagram function that a Graph API call matched by
	// method and path, such as "INSTAGRAM__GET_USER_MEDIA". It is "GET /{id}"
	// or "POST /{id}" when the shared path could not be resolved to one
	// function, and empty when nothing matched.
	Function string `json:"function,omitempty"`
}

// record appends r to the request log and returns the stored entry, so the
// Graph API handler can fill in Function later.
func (s *Server) record(r *http.Request, body []byte, endpoint string) *Request {
	entry := &Request{
		Time:          s.now(),
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		RawQuery:      r.URL.RawQuery,
		Body:          string(body),
		ContentType:   r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization"),
		Endpoint:      endpoint,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, entry)

	return entry
}

// Requests returns a copy of every recorded request, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()

	out := make([]Request, len(s.requests))
	for i, entry := range s.requests {
		out[i] = *entry
	}
	return out
}

// ResetRequests clears the request log. Tokens, codes and usage counters
// stay as they are.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}
