package gateway

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/credgate/credgate/apps"
	"github.com/credgate/credgate/oauthflow"
)

// forwardedHeaders are the client request headers passed to the API, in
// canonical form. All others, Authorization, Cookie and the headers that
// name the account included, are dropped.
var forwardedHeaders = []string{
	"Accept",
	"Accept-Encoding",
	"Accept-Language",
	"If-Modified-Since",
	"If-None-Match",
	"User-Agent",
}

// maxSniffBytes bounds how much of an upstream error reply is kept to look
// for a dead-token error code. Graph error bodies are a few hundred bytes.
const maxSniffBytes = 64 << 10

// call runs one validated function call for the request's account.
func (g *Gateway) call(w http.ResponseWriter, r *http.Request, fn *apps.Function, args apps.Arguments) {
	key, gerr := g.accountKey(r, "")
	if gerr != nil {
		writeError(w, gerr)
		return
	}

	upstreamRequest, err := fn.BuildRequest(g.cfg.App.APIVersion, args)
	if err != nil {
		writeError(w, newError(http.StatusBadRequest, CodeInvalidArguments, "invalid arguments for %s: %v", fn.Name, err))
		return
	}

	account, gerr := g.credential(r.Context(), key)
	if gerr != nil {
		writeError(w, gerr)
		return
	}

	out := g.prepareUpstream(r, upstreamRequest, account.AccessToken)
	recorder := &errorRecorder{ResponseWriter: w}
	err = g.cfg.Upstream(recorder, out)
	if err != nil {
		var uerr *UpstreamError
		status := http.StatusBadGateway
		if errors.As(err, &uerr) {
			status = uerr.Status
		}
		g.log.Error("upstream request failed", append(accountLogFields(key), zap.String("function", fn.Name), zap.Int("status", status), zap.Error(err))...)
		if recorder.wroteHeader {
			return
		}
		code := CodeUpstreamUnavailable
		if status == http.StatusGatewayTimeout {
			code = CodeUpstreamTimeout
		}
		writeError(w, newError(status, code, "%s sent no response to %s: %s", g.cfg.App.DisplayName, fn.Name, http.StatusText(status)))
		return
	}

	if perr := recorder.providerError(); perr != nil && perr.RequiresReauthorization(g.cfg.App.ReauthorizationErrorCodes) {
		reason := fmt.Sprintf("%s error code %d subcode %d: %s", g.cfg.App.DisplayName, perr.Code, perr.Subcode, perr.Message)
		g.markReauthorizationRequired(r.Context(), key, account.AccessToken, reason)
	}
}

// prepareUpstream builds the request handed to the Upstream: the client's
// request with the function's method, path, query and body, its own
// credentials removed and the account's token injected.
func (g *Gateway) prepareUpstream(r *http.Request, up *apps.UpstreamRequest, token string) *http.Request {
	// a shallow copy is enough: the URL and the header are replaced, not
	// changed in place, so the client's request stays as it was
	out := r.WithContext(r.Context())
	target := *r.URL
	target.Path = up.Path
	target.RawPath = up.RawPath
	target.RawQuery = up.RawQuery
	target.Fragment = ""
	out.URL = &target
	out.Method = up.Method
	out.RequestURI = ""

	// only headers the API may need are forwarded: client headers can
	// carry internal keys, cookies or ids that must not reach a third party
	header := make(http.Header, len(forwardedHeaders)+2)
	for _, name := range forwardedHeaders {
		if values := r.Header.Values(name); len(values) > 0 {
			header[name] = append([]string(nil), values...)
		}
	}
	out.Header = header
	credential := token
	if scheme := g.cfg.App.Credential.Scheme; scheme != "" {
		credential = scheme + " " + token
	}
	header.Set(g.cfg.App.Credential.Header, credential)

	if up.Body != nil {
		body := up.Body
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
		header.Set("Content-Type", "application/json")
	} else {
		out.Body = http.NoBody
		out.GetBody = nil
		out.ContentLength = 0
	}
	return out
}

// errorRecorder passes the upstream reply through unchanged and keeps the
// start of an error reply, to detect a dead token.
type errorRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (e *errorRecorder) WriteHeader(status int) {
	if !e.wroteHeader && status >= 200 {
		e.status = status
		e.wroteHeader = true
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *errorRecorder) Write(p []byte) (int, error) {
	if !e.wroteHeader {
		e.WriteHeader(http.StatusOK)
	}
	if e.status >= 400 && e.body.Len() < maxSniffBytes {
		keep := p
		if room := maxSniffBytes - e.body.Len(); len(keep) > room {
			keep = keep[:room]
		}
		e.body.Write(keep)
	}
	return e.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (e *errorRecorder) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// providerError parses a recorded error reply, or returns nil.
func (e *errorRecorder) providerError() *oauthflow.ProviderError {
	if e.status < 400 || e.body.Len() == 0 {
		return nil
	}
	body := e.body.Bytes()
	if strings.EqualFold(e.Header().Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil
		}
		// a truncated stream still yields its first bytes
		body, _ = io.ReadAll(io.LimitReader(zr, maxSniffBytes))
	}
	perr := oauthflow.ParseProviderError("api call", e.status, body)
	if perr.Code == 0 {
		return nil
	}
	return perr
}
