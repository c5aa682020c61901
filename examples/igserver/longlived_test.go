package igserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLongLivedExchange(t *testing.T) {
	f := newFixture(t, Options{})
	short := f.shortToken("instagram_business_basic")

	rec := f.exchange(short)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var reply longLivedReply
	decodeJSON(t, rec, &reply)
	if reply.TokenType != "bearer" {
		t.Errorf("token_type = %q, want bearer", reply.TokenType)
	}
	if reply.ExpiresIn != 5183944 {
		t.Errorf("expires_in = %d, want 5183944", reply.ExpiresIn)
	}
	if reply.AccessToken == short || !strings.HasPrefix(reply.AccessToken, "IGAA") {
		t.Errorf("access_token is not a new IGAA token")
	}

	// the long-lived token works for 60 days less 56 seconds
	f.clock.Advance(5183943 * time.Second)
	if rec := f.graph(http.MethodGet, "/v23.0/me", reply.AccessToken, ""); rec.Code != http.StatusOK {
		t.Errorf("one second before expiry: status %d, body %s", rec.Code, rec.Body)
	}
	f.clock.Advance(time.Second)
	if e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/me", reply.AccessToken, "")); e.Code != 190 {
		t.Errorf("at expiry: code %d, want 190", e.Code)
	}
}

func TestLongLivedExchangeErrors(t *testing.T) {
	tests := []struct {
		name        string
		prepare     func(f *fixture, short string) url.Values
		wantCode    int
		wantSubcode int
	}{
		{
			name: "wrong secret",
			prepare: func(_ *fixture, short string) url.Values {
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {"wrong"}, "access_token": {short}}
			},
			wantCode: 101, wantSubcode: -1,
		},
		{
			name: "missing secret",
			prepare: func(_ *fixture, short string) url.Values {
				return url.Values{"grant_type": {"ig_exchange_token"}, "access_token": {short}}
			},
			wantCode: 100, wantSubcode: -1,
		},
		{
			name: "wrong grant type",
			prepare: func(_ *fixture, short string) url.Values {
				return url.Values{"grant_type": {"ig_refresh_token"}, "client_secret": {testClientSecret}, "access_token": {short}}
			},
			wantCode: 100, wantSubcode: -1,
		},
		{
			name: "unknown token",
			prepare: func(_ *fixture, _ string) url.Values {
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}, "access_token": {"IGAAunknown"}}
			},
			wantCode: 190, wantSubcode: 0,
		},
		{
			name: "missing token",
			prepare: func(_ *fixture, _ string) url.Values {
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}}
			},
			wantCode: 190, wantSubcode: 0,
		},
		{
			name: "expired short token",
			prepare: func(f *fixture, short string) url.Values {
				f.clock.Advance(time.Hour)
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}, "access_token": {short}}
			},
			wantCode: 190, wantSubcode: 463,
		},
		{
			name: "revoked short token",
			prepare: func(f *fixture, short string) url.Values {
				if err := f.srv.RevokeToken(short); err != nil {
					f.t.Fatal(err)
				}
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}, "access_token": {short}}
			},
			wantCode: 190, wantSubcode: 460,
		},
		{
			name: "long-lived token",
			prepare: func(f *fixture, _ string) url.Values {
				return url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}, "access_token": {f.longToken()}}
			},
			wantCode: 100, wantSubcode: -1,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			short := f.shortToken("instagram_business_basic")
			query := tt.prepare(f, short)

			rec := f.do(http.MethodGet, "/access_token?"+query.Encode(), "")

			e := graphErrorOf(t, rec)
			if e.Code != tt.wantCode || subcodeOf(e) != tt.wantSubcode {
				t.Errorf("code %d subcode %d, want %d and %d; body %s", e.Code, subcodeOf(e), tt.wantCode, tt.wantSubcode, rec.Body)
			}
			if strings.Contains(rec.Body.String(), short) || strings.Contains(rec.Body.String(), testClientSecret) {
				t.Errorf("error reply leaks the token or the secret: %s", rec.Body)
			}
		})
	}
}

func TestRefreshRules(t *testing.T) {
	tests := []struct {
		name        string
		prepare     func(f *fixture, long string) string // returns the token to refresh
		wantCode    int
		wantSubcode int
	}{
		{
			name:     "younger than 24 hours",
			prepare:  func(f *fixture, long string) string { f.clock.Advance(23*time.Hour + 59*time.Minute); return long },
			wantCode: 100, wantSubcode: -1,
		},
		{
			name: "expired",
			prepare: func(f *fixture, long string) string {
				f.clock.Advance(longLived)
				return long
			},
			wantCode: 190, wantSubcode: 463,
		},
		{
			name: "revoked",
			prepare: func(f *fixture, long string) string {
				f.clock.Advance(25 * time.Hour)
				if err := f.srv.RevokeToken(long); err != nil {
					f.t.Fatal(err)
				}
				return long
			},
			wantCode: 190, wantSubcode: 460,
		},
		{
			name: "short-lived",
			prepare: func(f *fixture, _ string) string {
				short := f.shortToken("instagram_business_basic")
				now := f.clock.Now()
				if err := f.srv.SetToken(short, now.Add(-30*time.Hour), now.Add(time.Hour)); err != nil {
					f.t.Fatal(err)
				}
				return short
			},
			wantCode: 100, wantSubcode: -1,
		},
		{
			name:     "unknown",
			prepare:  func(*fixture, string) string { return "IGAAunknown" },
			wantCode: 190, wantSubcode: 0,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			token := tt.prepare(f, f.longToken())

			rec := f.refresh(token)

			e := graphErrorOf(t, rec)
			if e.Code != tt.wantCode || subcodeOf(e) != tt.wantSubcode {
				t.Errorf("code %d subcode %d, want %d and %d; body %s", e.Code, subcodeOf(e), tt.wantCode, tt.wantSubcode, rec.Body)
			}
		})
	}
}

func TestRefreshWrongGrantType(t *testing.T) {
	f := newFixture(t, Options{})
	long := f.longToken()
	f.clock.Advance(25 * time.Hour)

	query := url.Values{"grant_type": {"ig_exchange_token"}, "access_token": {long}}
	e := graphErrorOf(t, f.do(http.MethodGet, "/refresh_access_token?"+query.Encode(), ""))

	if e.Code != 100 {
		t.Errorf("code = %d, want 100", e.Code)
	}
}

func TestRefreshRotatesEveryOtherTime(t *testing.T) {
	f := newFixture(t, Options{})
	original := f.longToken()

	// first refresh: a new string, while the old one keeps working
	f.clock.Advance(25 * time.Hour)
	first := refreshOK(t, f, original)
	if first == original {
		t.Fatal("first refresh returned the same string, want a new one")
	}
	if rec := f.graph(http.MethodGet, "/v23.0/me", original, ""); rec.Code != http.StatusOK {
		t.Errorf("old string after rotation: status %d, want 200", rec.Code)
	}

	// second refresh of the new string: the same string, extended
	f.clock.Advance(25 * time.Hour)
	second := refreshOK(t, f, first)
	if second != first {
		t.Error("second refresh returned a new string, want the same one")
	}

	// third refresh: a new string again
	f.clock.Advance(25 * time.Hour)
	if third := refreshOK(t, f, second); third == second {
		t.Error("third refresh returned the same string, want a new one")
	}

	// the original string dies at its own expiry, 60 days after it was issued
	f.clock.Advance(longLived - 75*time.Hour)
	if e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/me", original, "")); e.Code != 190 || subcodeOf(e) != 463 {
		t.Errorf("original string at its expiry: code %d subcode %d, want 190 and 463", e.Code, subcodeOf(e))
	}
	if rec := f.graph(http.MethodGet, "/v23.0/me", second, ""); rec.Code != http.StatusOK {
		t.Errorf("refreshed string: status %d, want 200", rec.Code)
	}
}

func TestRefreshExtendsExpiry(t *testing.T) {
	f := newFixture(t, Options{})
	long := f.longToken()
	f.clock.Advance(25 * time.Hour)
	rotated := refreshOK(t, f, long)
	f.clock.Advance(25 * time.Hour)
	same := refreshOK(t, f, rotated)

	// issued_at is now the second refresh, so the token is too new again
	if e := graphErrorOf(t, f.refresh(same)); e.Code != 100 {
		t.Errorf("refresh right after refresh: code %d, want 100", e.Code)
	}

	// and it lives 60 days from the second refresh
	f.clock.Advance(longLived - time.Second)
	if rec := f.graph(http.MethodGet, "/v23.0/me", same, ""); rec.Code != http.StatusOK {
		t.Errorf("just before the new expiry: status %d, want 200", rec.Code)
	}
}

func refreshOK(t *testing.T, f *fixture, token string) string {
	t.Helper()

	rec := f.refresh(token)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: status %d, body %s", rec.Code, rec.Body)
	}
	var reply longLivedReply
	decodeJSON(t, rec, &reply)
	if reply.TokenType != "bearer" || reply.ExpiresIn != 5183944 {
		t.Errorf("refresh reply = %+v, want token_type bearer and expires_in 5183944", reply)
	}
	return reply.AccessToken
}

func TestSetTokenAndRevokeToken(t *testing.T) {
	f := newFixture(t, Options{})
	long := f.longToken()
	now := f.clock.Now()

	if err := f.srv.SetToken("IGAAunknown", now, now.Add(time.Hour)); err == nil {
		t.Error("SetToken of an unknown token: no error")
	}
	if err := f.srv.SetToken(long, now, now.Add(-time.Hour)); err == nil {
		t.Error("SetToken with expires_at before issued_at: no error")
	}
	if err := f.srv.RevokeToken("IGAAunknown"); err == nil {
		t.Error("RevokeToken of an unknown token: no error")
	}

	// backdating makes the token old enough to refresh at once
	if err := f.srv.SetToken(long, now.Add(-48*time.Hour), now.Add(time.Hour)); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	refreshOK(t, f, long)

	// expiring it makes every use fail with 463
	if err := f.srv.SetToken(long, now.Add(-48*time.Hour), now); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	if e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/me", long, "")); subcodeOf(e) != 463 {
		t.Errorf("expired token: subcode %d, want 463", subcodeOf(e))
	}
}

func TestErrorsDoNotContainToken(t *testing.T) {
	f := newFixture(t, Options{})
	long := f.longToken()
	now := f.clock.Now()
	if err := f.srv.SetToken(long, now, now); err != nil {
		t.Fatal(err)
	}

	err := f.srv.SetToken(long, now, now.Add(-time.Second))
	if err == nil || strings.Contains(err.Error(), long) {
		t.Errorf("SetToken error = %v, want an error without the token", err)
	}
	for _, rec := range []interface{ String() string }{
		f.graph(http.MethodGet, "/v23.0/me", long, "").Body,
		f.refresh(long).Body,
	} {
		if strings.Contains(rec.String(), long) {
			t.Errorf("reply contains the token: %s", rec)
		}
	}
}
