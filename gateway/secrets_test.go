package gateway_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
)

// TestLogsContainNoSecrets runs every flow that logs, successes and
// failures, through one gateway and then searches the whole log for the
// client secret, the code, every state and every token.
func TestLogsContainNoSecrets(t *testing.T) {
	h := newHarness(t)

	// link, replay the callback, then fail a second link at the exchange
	state := h.authorize(t, testOwner, testReturnPrefix+"/done")
	if rec := h.callback(url.Values{"code": {testCode + "#_"}, "state": {state}}); rec.Code != http.StatusFound {
		t.Fatalf("callback: status = %d, want 302", rec.Code)
	}
	h.callback(url.Values{"code": {testCode}, "state": {state}})
	h.instagram.setFailCodeExchange(true)
	failing := h.authorize(t, "owner-2", "")
	h.callback(url.Values{"code": {testCode}, "state": {failing}})
	h.callback(url.Values{"error": {"access_denied"}, "error_reason": {"user_denied"}, "state": {failing}})

	// refresh fails once, then succeeds
	h.clock.Advance(50 * day)
	h.instagram.setRefresh(http.StatusInternalServerError, 0)
	h.serve(request(http.MethodGet, "/me?access_token="+testClientToken, "", ""))
	h.clock.Advance(2 * time.Minute) // past the wait after a failed refresh
	h.instagram.setRefresh(0, 0)
	h.serve(request(http.MethodGet, "/me", "", ""))

	// a function call with the client's own token, an upstream failure,
	// then a revoked token
	r := request(http.MethodPost, "/functions/INSTAGRAM__GET_USER_PROFILE", "application/json", `{"query":{"access_token":"`+testClientToken+`"}}`)
	r.Header.Set("Authorization", "Bearer "+testClientToken)
	h.serve(r)
	h.upstream.setReply(func(http.ResponseWriter, *http.Request) error {
		return &gateway.UpstreamError{Status: http.StatusGatewayTimeout, Err: errors.New("context deadline exceeded")}
	})
	h.serve(request(http.MethodGet, "/me", "", ""))
	h.upstream.setReply(graphErrorReply(http.StatusBadRequest, graph190, false))
	h.serve(request(http.MethodGet, "/me", "", ""))
	h.serve(request(http.MethodGet, "/me", "", ""))

	// an expired state
	expired := h.authorize(t, testOwner, "")
	h.clock.Advance(11 * time.Minute)
	h.callback(url.Values{"code": {testCode}, "state": {expired}})

	logs := h.logs.String()
	for _, message := range []string{"account linked", "callback rejected", "callback failed", "callback declined",
		"token refresh failed", "token refreshed", "upstream request failed", "account needs reauthorization"} {
		if !strings.Contains(logs, `"msg":"`+message+`"`) {
			t.Errorf("the flows did not log %q, so the search below misses it", message)
		}
	}
	h.assertNoSecrets(t, "log", logs)
}
