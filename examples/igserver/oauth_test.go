package igserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthorizeRejectsInvalidRequests(t *testing.T) {
	tests := []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "other") }, "Invalid platform app"},
		{"missing client", func(q url.Values) { q.Del("client_id") }, "Invalid platform app"},
		{"token response type", func(q url.Values) { q.Set("response_type", "token") }, "Invalid response_type"},
		{"missing redirect", func(q url.Values) { q.Del("redirect_uri") }, "redirect_uri"},
		{"relative redirect", func(q url.Values) { q.Set("redirect_uri", "/callback") }, "Invalid redirect_uri"},
		{"redirect with fragment", func(q url.Values) { q.Set("redirect_uri", testRedirectURI+"#x") }, "Invalid redirect_uri"},
		{"missing scope", func(q url.Values) { q.Del("scope") }, "instagram_business_basic is required"},
		{"basic scope missing", func(q url.Values) { q.Set("scope", "instagram_business_content_publish") }, "instagram_business_basic is required"},
		{"retired scope", func(q url.Values) { q.Set("scope", "business_basic") }, "retired"},
		{"retired next to new", func(q url.Values) { q.Set("scope", "instagram_business_basic,business_manage_messages") }, "retired"},
		{"unknown scope", func(q url.Values) { q.Set("scope", "instagram_business_basic,user_profile") }, "Invalid scope: user_profile"},
		{"space separated", func(q url.Values) {
			q.Set("scope", "instagram_business_basic instagram_business_content_publish")
		}, "separate scopes with commas"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{AutoApprove: true})
			query := authorizeQuery("instagram_business_basic")
			tt.change(query)

			rec := f.do(http.MethodGet, "/oauth/authorize?"+query.Encode(), "")

			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type = %q, want an HTML page", got)
			}
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("page does not contain %q:\n%s", tt.want, rec.Body)
			}
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Errorf("Location = %q, want no redirect", loc)
			}
		})
	}
}

func TestAuthorizeShowsConsentPage(t *testing.T) {
	f := newFixture(t, Options{})
	query := authorizeQuery(allScopes)

	rec := f.do(http.MethodGet, "/oauth/authorize?"+query.Encode(), "")

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	page := rec.Body.String()
	for _, want := range []string{
		`<form method="post" action="/oauth/authorize">`,
		`name="decision" value="approve"`,
		`name="decision" value="deny"`,
		`name="state" value="state-123"`,
		`name="redirect_uri" value="` + testRedirectURI + `"`,
		"instagram_business_manage_insights",
		">Approve<",
		">Deny<",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page does not contain %q", want)
		}
	}
}

func TestAuthorizeEscapesConsentPage(t *testing.T) {
	f := newFixture(t, Options{})
	query := authorizeQuery("instagram_business_basic")
	query.Set("state", `"><script>alert(1)</script>`)

	rec := f.do(http.MethodGet, "/oauth/authorize?"+query.Encode(), "")

	if strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("state was written unescaped:\n%s", rec.Body)
	}
}

func TestAuthorizeDecisionRedirects(t *testing.T) {
	tests := []struct {
		name     string
		decision string
		redirect string
		want     string // Location with the code replaced by CODE
	}{
		{
			name:     "approve",
			decision: "approve",
			redirect: testRedirectURI,
			want:     testRedirectURI + "?code=CODE&state=state-123#_",
		},
		{
			name:     "approve keeps query",
			decision: "approve",
			redirect: testRedirectURI + "?app=demo",
			want:     testRedirectURI + "?app=demo&code=CODE&state=state-123#_",
		},
		{
			name:     "deny",
			decision: "deny",
			redirect: testRedirectURI,
			want: testRedirectURI + "?error=access_denied&error_reason=user_denied" +
				"&error_description=Permissions+error&state=state-123",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			form := authorizeQuery("instagram_business_basic")
			form.Set("redirect_uri", tt.redirect)
			form.Set("decision", tt.decision)

			rec := f.do(http.MethodPost, "/oauth/authorize", form.Encode())

			if rec.Code != http.StatusFound {
				t.Fatalf("status = %d, want 302; body %s", rec.Code, rec.Body)
			}
			location := rec.Header().Get("Location")
			code := ""
			if u, err := url.Parse(location); err == nil {
				code = u.Query().Get("code")
			}
			if got := strings.Replace(location, "code="+code, "code=CODE", 1); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
			if tt.decision == "approve" && len(code) < 32 {
				t.Errorf("code %q is shorter than 32 characters", code)
			}
		})
	}
}

func TestAuthorizeRejectsUnknownDecision(t *testing.T) {
	f := newFixture(t, Options{})
	form := authorizeQuery("instagram_business_basic")
	form.Set("decision", "maybe")

	rec := f.do(http.MethodPost, "/oauth/authorize", form.Encode())

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rec.Code)
	}
}

func TestAuthorizeAutoApprove(t *testing.T) {
	f := newFixture(t, Options{AutoApprove: true})
	query := authorizeQuery("instagram_business_basic")
	query.Del("state")

	rec := f.do(http.MethodGet, "/oauth/authorize?"+query.Encode(), "")

	if rec.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302; body %s", rec.Code, rec.Body)
	}
	location := rec.Header().Get("Location")
	if !strings.HasPrefix(location, testRedirectURI+"?code=") || !strings.HasSuffix(location, "#_") {
		t.Errorf("Location = %q, want the redirect URI with a code and #_", location)
	}
	if strings.Contains(location, "state=") {
		t.Errorf("Location = %q has a state although none was sent", location)
	}
}

func TestCodeExchangeFlatShape(t *testing.T) {
	f := newFixture(t, Options{})
	code := f.code("instagram_business_basic,instagram_business_content_publish")

	rec := f.do(http.MethodPost, "/oauth/access_token", exchangeForm(code).Encode())

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `"user_id":27640875392278831,`) {
		t.Errorf("body %s does not carry user_id as the bare number 27640875392278831", body)
	}

	var reply map[string]json.RawMessage
	decodeJSON(t, rec, &reply)
	for _, absent := range []string{"token_type", "expires_in", "refresh_token"} {
		if _, ok := reply[absent]; ok {
			t.Errorf("reply has %s: %s", absent, body)
		}
	}
	var token string
	_ = json.Unmarshal(reply["access_token"], &token)
	if !strings.HasPrefix(token, "IGAA") || len(token) < 36 {
		t.Errorf("access_token %q does not look like IGAA and 32 random characters", token)
	}
	var permissions []string
	_ = json.Unmarshal(reply["permissions"], &permissions)
	if got := strings.Join(permissions, ","); got != "instagram_business_basic,instagram_business_content_publish" {
		t.Errorf("permissions = %q", got)
	}
}

func TestCodeExchangeDataShape(t *testing.T) {
	f := newFixture(t, Options{TokenShape: TokenShapeData})
	code := f.code("instagram_business_basic,instagram_business_manage_comments")

	rec := f.do(http.MethodPost, "/oauth/access_token", exchangeForm(code).Encode())

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var reply struct {
		Data []map[string]any `json:"data"`
	}
	decodeJSON(t, rec, &reply)
	if len(reply.Data) != 1 {
		t.Fatalf("data has %d entries, want 1: %s", len(reply.Data), rec.Body)
	}
	entry := reply.Data[0]
	if entry["user_id"] != "27640875392278831" {
		t.Errorf("user_id = %#v, want the string 27640875392278831", entry["user_id"])
	}
	if entry["permissions"] != "instagram_business_basic,instagram_business_manage_comments" {
		t.Errorf("permissions = %#v, want a comma-separated string", entry["permissions"])
	}
	if token, _ := entry["access_token"].(string); !strings.HasPrefix(token, "IGAA") {
		t.Errorf("access_token = %q", token)
	}
}

func TestCodeExchangeErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(form url.Values, code string)
		header []string
		want   string
	}{
		{"missing client id", func(form url.Values, _ string) { form.Del("client_id") }, nil, "Missing required parameter client_id"},
		{"missing secret", func(form url.Values, _ string) { form.Del("client_secret") }, nil, "Missing required parameter client_secret"},
		{"missing grant type", func(form url.Values, _ string) { form.Del("grant_type") }, nil, "Missing required parameter grant_type"},
		{"missing redirect", func(form url.Values, _ string) { form.Del("redirect_uri") }, nil, "Missing required parameter redirect_uri"},
		{"missing code", func(form url.Values, _ string) { form.Del("code") }, nil, "Missing required parameter code"},
		{
			name: "credentials in basic auth",
			change: func(form url.Values, _ string) {
				form.Del("client_id")
				form.Del("client_secret")
			},
			header: []string{"Authorization", "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0"},
			want:   "Missing required parameter client_id",
		},
		{"wrong client id", func(form url.Values, _ string) { form.Set("client_id", "other") }, nil, "Invalid platform app"},
		{"wrong secret", func(form url.Values, _ string) { form.Set("client_secret", "wrong") }, nil, "Invalid platform app"},
		{"wrong grant type", func(form url.Values, _ string) { form.Set("grant_type", "client_credentials") }, nil, "Invalid grant_type: expected authorization_code"},
		{"unknown code", func(form url.Values, _ string) { form.Set("code", "AQunknown") }, nil, "Matching code was not found or was already used"},
		{"code with fragment", func(form url.Values, code string) { form.Set("code", code+"#_") }, nil, "Matching code was not found or was already used"},
		{"other redirect", func(form url.Values, _ string) { form.Set("redirect_uri", "http://127.0.0.1:8080/other") }, nil, "Invalid redirect_uri"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			code := f.code("instagram_business_basic")
			form := exchangeForm(code)
			tt.change(form, code)

			rec := f.do(http.MethodPost, "/oauth/access_token", form.Encode(), tt.header...)

			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			var reply flatError
			decodeJSON(t, rec, &reply)
			want := flatError{ErrorType: "OAuthException", Code: 400, ErrorMessage: tt.want}
			if reply != want {
				t.Errorf("reply = %+v, want %+v", reply, want)
			}
			if strings.Contains(rec.Body.String(), code) || strings.Contains(rec.Body.String(), testClientSecret) {
				t.Errorf("error reply leaks the code or the secret: %s", rec.Body)
			}
		})
	}
}

func TestCodeExchangeQueryOnlyCountsAsMissing(t *testing.T) {
	f := newFixture(t, Options{})
	form := exchangeForm(f.code("instagram_business_basic"))

	rec := f.do(http.MethodPost, "/oauth/access_token?"+form.Encode(), "")

	var reply flatError
	decodeJSON(t, rec, &reply)
	if reply.ErrorMessage != "Missing required parameter client_id" {
		t.Errorf("error_message = %q, want the missing client_id error", reply.ErrorMessage)
	}
}

func TestCodeExchangeAcceptsMultipart(t *testing.T) {
	f := newFixture(t, Options{})
	form := exchangeForm(f.code("instagram_business_basic"))

	var body strings.Builder
	for name, values := range form {
		body.WriteString("--b\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + values[0] + "\r\n")
	}
	body.WriteString("--b--\r\n")
	rec := f.do(http.MethodPost, "/oauth/access_token", body.String(), "Content-Type", "multipart/form-data; boundary=b")

	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
}

func TestCodeWorksOnce(t *testing.T) {
	f := newFixture(t, Options{})
	form := exchangeForm(f.code("instagram_business_basic")).Encode()

	first := f.do(http.MethodPost, "/oauth/access_token", form)
	second := f.do(http.MethodPost, "/oauth/access_token", form)

	if first.Code != http.StatusOK {
		t.Fatalf("first exchange: status %d, body %s", first.Code, first.Body)
	}
	var reply flatError
	decodeJSON(t, second, &reply)
	if reply.ErrorMessage != "Matching code was not found or was already used" {
		t.Errorf("second exchange: error_message = %q", reply.ErrorMessage)
	}
}

func TestCodeExpiresAfterOneHour(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		wantErr bool
	}{
		{"59 minutes", 59 * time.Minute, false},
		{"one hour", time.Hour, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			form := exchangeForm(f.code("instagram_business_basic")).Encode()
			f.clock.Advance(tt.age)

			rec := f.do(http.MethodPost, "/oauth/access_token", form)

			if gotErr := rec.Code != http.StatusOK; gotErr != tt.wantErr {
				t.Errorf("status = %d, want error %v; body %s", rec.Code, tt.wantErr, rec.Body)
			}
		})
	}
}

func TestCodeExchangeRejectsGet(t *testing.T) {
	f := newFixture(t, Options{})

	rec := f.do(http.MethodGet, "/oauth/access_token?"+exchangeForm("x").Encode(), "")

	var reply flatError
	decodeJSON(t, rec, &reply)
	if rec.Code != http.StatusBadRequest || reply.Code != 400 {
		t.Errorf("status = %d, reply %s: want a flat 400 error", rec.Code, rec.Body)
	}
}

func TestShortLivedTokenExpiresAfterOneHour(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.shortToken("instagram_business_basic")

	f.clock.Advance(59 * time.Minute)
	if rec := f.graph(http.MethodGet, "/v23.0/me", token, ""); rec.Code != http.StatusOK {
		t.Fatalf("after 59 minutes: status %d, body %s", rec.Code, rec.Body)
	}

	f.clock.Advance(time.Minute)
	e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/me", token, ""))
	if e.Code != 190 || subcodeOf(e) != 463 {
		t.Errorf("after one hour: code %d subcode %d, want 190 and 463", e.Code, subcodeOf(e))
	}
}
