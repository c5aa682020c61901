package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// FetchIdentity names the account that token belongs to with the Identity
// request, sending the token in an Authorization: Bearer header. It wraps
// errors.ErrUnsupported when the provider has no identity request.
func (p *Provider) FetchIdentity(ctx context.Context, token string) (*Identity, error) {
	spec := p.Identity
	if spec == nil {
		return nil, p.callFailed(EndpointIdentity, fmt.Errorf("the app data defines no identity request: %w", errors.ErrUnsupported))
	}
	if spec.UserIDField == "" {
		return nil, p.callFailed(EndpointIdentity, errors.New("the identity request has no user_id_field"))
	}
	if token == "" {
		return nil, p.callFailed(EndpointIdentity, errors.New("access token is empty"))
	}

	// build the request from the app data
	target, err := endpointURL("API base URL", p.APIBaseURL, p.APIVersion, spec.Path)
	if err != nil {
		return nil, p.callFailed(EndpointIdentity, err)
	}
	params, err := p.expandQuery(spec.Query, token)
	if err != nil {
		return nil, p.callFailed(EndpointIdentity, err)
	}
	req, err := newParamsRequest(ctx, http.MethodGet, target, params)
	if err != nil {
		return nil, p.callFailed(EndpointIdentity, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)

	// send it and read the two configured fields
	body, err := p.send(req, EndpointIdentity, newRedactor(p.ClientSecret, token))
	if err != nil {
		return nil, err
	}
	object, err := decodeObject(body)
	if err != nil {
		return nil, p.callFailed(EndpointIdentity, err)
	}
	userID, err := integerMember(object, spec.UserIDField)
	if err != nil {
		return nil, p.callFailed(EndpointIdentity, err)
	}
	if userID == "" {
		return nil, p.callFailed(EndpointIdentity, fmt.Errorf("reply is missing %s", spec.UserIDField))
	}

	identity := &Identity{UserID: userID}
	if spec.UsernameField != "" {
		identity.Username, err = stringMember(object, spec.UsernameField)
		if err != nil {
			return nil, p.callFailed(EndpointIdentity, err)
		}
	}
	return identity, nil
}
