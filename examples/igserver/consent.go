package igserver

import (
	"bytes"
	"html/template"
	"net/http"
)

// consentPage is the login page with Approve and Deny buttons. Both forms
// post the original parameters back to /oauth/authorize.
var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in with Instagram</title></head>
<body>
<h1>Allow access to @{{.Username}}?</h1>
<p>The app {{.ClientID}} requests these permissions:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
{{range .Decisions}}<form method="post" action="/oauth/authorize">
<input type="hidden" name="client_id" value="{{$.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{$.RedirectURI}}">
<input type="hidden" name="response_type" value="{{$.ResponseType}}">
<input type="hidden" name="scope" value="{{$.Scope}}">
<input type="hidden" name="state" value="{{$.State}}">
<input type="hidden" name="decision" value="{{.Value}}">
<button type="submit" id="{{.Value}}">{{.Label}}</button>
</form>
{{end}}</body>
</html>
`))

// errorPage is the page shown instead of a redirect when the authorization
// request itself is invalid.
var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Error</title></head>
<body>
<h1>Sorry, this page isn't available.</h1>
<p id="error">{{.}}</p>
</body>
</html>
`))

type consentDecision struct {
	Value string
	Label string
}

type consentView struct {
	Username     string
	ClientID     string
	RedirectURI  string
	ResponseType string
	Scope        string
	State        string
	Scopes       []string
	Decisions    []consentDecision
}

func (s *Server) writeConsentPage(w http.ResponseWriter, req consentRequest) {
	view := consentView{
		Username:     s.account.Username,
		ClientID:     req.clientID,
		RedirectURI:  req.redirectURI,
		ResponseType: req.responseType,
		Scope:        req.scope,
		State:        req.state,
		Scopes:       req.scopes,
		Decisions: []consentDecision{
			{Value: "approve", Label: "Approve"},
			{Value: "deny", Label: "Deny"},
		},
	}
	writeHTML(w, http.StatusOK, consentPage, view)
}

func writeErrorPage(w http.ResponseWriter, message string) {
	writeHTML(w, http.StatusBadRequest, errorPage, message)
}

func writeHTML(w http.ResponseWriter, status int, page *template.Template, data any) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		http.Error(w, "failed to render page: "+err.Error(), http.StatusInternalServerError)
		return
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
