package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ExchangeCode trades an authorization code for a token. It removes
// CodeSuffix from the end of code, then posts client_id, client_secret,
// grant_type, redirect_uri and code as a form body, never with HTTP Basic.
//
// The call is written by hand rather than with oauth2.Config.Exchange for
// two reasons. x/oauth2 decodes the extra fields of the reply through
// float64, which rounds a user_id above 2^53 (27640875392278831 becomes
// 27640875392278832). It also rejects the documented Instagram reply
// {"data":[{...}]}, which has no top-level access_token.
func (p *Provider) ExchangeCode(ctx context.Context, code string) (*ShortToken, error) {
	if p.CodeSuffix != "" {
		code = strings.TrimSuffix(code, p.CodeSuffix)
	}
	if code == "" {
		return nil, p.callFailed(EndpointCodeExchange, errors.New("authorization code is empty"))
	}

	// build the form request
	target, err := endpointURL("token URL", p.TokenURL)
	if err != nil {
		return nil, p.callFailed(EndpointCodeExchange, err)
	}
	form := url.Values{
		"client_id":     {p.ClientID},
		"client_secret": {p.ClientSecret},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {p.RedirectURL},
		"code":          {code},
	}
	req, err := newParamsRequest(ctx, http.MethodPost, target, form)
	if err != nil {
		return nil, p.callFailed(EndpointCodeExchange, err)
	}

	// send it and decode either reply shape
	body, err := p.send(req, EndpointCodeExchange, newRedactor(p.ClientSecret, code))
	if err != nil {
		return nil, err
	}
	token, err := decodeShortToken(body)
	if err != nil {
		return nil, p.callFailed(EndpointCodeExchange, err)
	}
	return token, nil
}

// decodeShortToken reads the flat reply
// {"access_token","user_id":<number or string>,"permissions":[...]} or the
// wrapped reply {"data":[{"access_token","user_id":"...","permissions":"a,b"}]}.
func decodeShortToken(body []byte) (*ShortToken, error) {
	object, err := decodeObject(body)
	if err != nil {
		return nil, err
	}

	// unwrap {"data":[{...}]}
	if data, ok := object["data"]; ok {
		entries, ok := data.([]any)
		if !ok || len(entries) == 0 {
			return nil, errors.New(`reply member "data" is not a non-empty array`)
		}
		first, ok := entries[0].(map[string]any)
		if !ok {
			return nil, errors.New(`reply member "data" does not contain an object`)
		}
		object = first
	}

	accessToken, err := stringMember(object, "access_token")
	if err != nil {
		return nil, err
	}
	if accessToken == "" {
		return nil, errors.New("reply is missing access_token")
	}

	userID, err := integerMember(object, "user_id")
	if err != nil {
		return nil, err
	}
	permissions, err := listMember(object, "permissions")
	if err != nil {
		return nil, err
	}

	return &ShortToken{AccessToken: accessToken, UserID: userID, Permissions: permissions}, nil
}

// ExchangeLongLived trades a short-lived token for a long-lived one with
// the LongLivedExchange request. It wraps errors.ErrUnsupported when the
// provider has no such request.
func (p *Provider) ExchangeLongLived(ctx context.Context, shortToken string) (*Token, error) {
	return p.requestToken(ctx, EndpointLongLivedExchange, p.LongLivedExchange, shortToken)
}

// RefreshToken trades a long-lived token for a new one with the Refresh
// request. The returned token may equal the old one, and the caller should
// store it either way. It wraps errors.ErrUnsupported when the provider has no
// refresh request.
func (p *Provider) RefreshToken(ctx context.Context, token string) (*Token, error) {
	return p.requestToken(ctx, EndpointRefresh, p.Refresh, token)
}

// requestToken performs a token call described by app data and reads the
// reply {"access_token","token_type","expires_in"}.
func (p *Provider) requestToken(ctx context.Context, endpoint string, spec *TokenRequest, token string) (*Token, error) {
	if spec == nil {
		return nil, p.callFailed(endpoint, fmt.Errorf("the app data defines no %s request: %w", endpoint, errors.ErrUnsupported))
	}
	if token == "" {
		return nil, p.callFailed(endpoint, errors.New("access token is empty"))
	}

	// build the request from the app data
	target, err := endpointURL("API base URL", p.APIBaseURL, spec.Path)
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}
	params, err := p.expandQuery(spec.Query, token)
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}
	req, err := newParamsRequest(ctx, spec.Method, target, params)
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}

	// the expiry counts from the request start, so the real expiry is
	// never earlier than ExpiresAt claims
	started := p.now()
	body, err := p.send(req, endpoint, newRedactor(p.ClientSecret, token))
	if err != nil {
		return nil, err
	}
	arrived := p.now()

	// decode the reply
	object, err := decodeObject(body)
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}
	accessToken, err := stringMember(object, "access_token")
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}
	if accessToken == "" {
		return nil, p.callFailed(endpoint, errors.New("reply is missing access_token"))
	}
	tokenType, err := stringMember(object, "token_type")
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}
	expiresIn, err := secondsMember(object, "expires_in")
	if err != nil {
		return nil, p.callFailed(endpoint, err)
	}

	return &Token{
		AccessToken: accessToken,
		TokenType:   tokenType,
		IssuedAt:    arrived,
		ExpiresAt:   started.Add(expiresIn),
	}, nil
}
