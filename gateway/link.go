package gateway

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// linkTimeout bounds the token steps and the store write of one callback.
const linkTimeout = 2 * time.Minute

// serveAuthorize serves GET /oauth/authorize?owner=…[&return_to=…] with
// the consent URL: as JSON when the client accepts it, else as a redirect.
func (g *Gateway) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"%s /oauth/authorize is not supported; use GET", r.Method))
		return
	}

	query := r.URL.Query()
	if _, owner := g.cfg.Accounts(r); owner == "" && query.Get("owner") == "" {
		writeError(w, newError(http.StatusBadRequest, CodeMissingOwner,
			"no owner for the account to link: add ?owner=<id> or set %s", g.cfg.OwnerSource))
		return
	}
	key, gerr := g.accountKey(r, query.Get("owner"))
	if gerr != nil {
		writeError(w, gerr)
		return
	}

	returnTo := query.Get("return_to")
	if returnTo != "" && !g.returnToAllowed(returnTo) {
		writeError(w, newError(http.StatusBadRequest, CodeReturnToNotAllowed,
			"return_to %q is not at or below any allow_return_to prefix of the gateway (same scheme and host, a path at or under the prefix's path, no dot segments); add its prefix to allow_return_to or leave return_to out", returnTo))
		return
	}

	authURL, err := g.authorizeURL(key, returnTo)
	if err != nil {
		g.log.Error("issuing authorization url failed", append(accountLogFields(key), zap.Error(err))...)
		writeError(w, newError(http.StatusInternalServerError, CodeInternal, "could not create the authorization URL"))
		return
	}

	if acceptsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"authorization_url": authURL})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

// acceptsJSON reports whether the Accept header lists application/json
// with a quality above zero.
func acceptsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mediaType != "application/json" {
			continue
		}
		if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q <= 0 {
			continue
		}
		return true
	}
	return false
}

// serveCallback finishes linking: it verifies and spends the state, turns
// the code into a long-lived token, names the account and stores it. When
// any step fails nothing is stored, and the page names the step that failed
// without echoing the code, the state or a token.
func (g *Gateway) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		renderPage(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed", Message: "The OAuth callback accepts GET only."})
		return
	}
	query := r.URL.Query()
	display := g.cfg.App.DisplayName

	// the end user declined, or the provider failed; nothing to store
	if providerError := query.Get("error"); providerError != "" {
		g.log.Info("callback declined", zap.String("app", g.cfg.App.Name), zap.String("error", providerError), zap.String("error_reason", query.Get("error_reason")))
		g.cfg.Metrics.AccountLink(g.cfg.App.Name, "declined")
		if providerError == "access_denied" {
			renderPage(w, http.StatusForbidden, page{Title: "Linking cancelled", Message: fmt.Sprintf("Access to the %s account was declined, so nothing was linked. Start linking again from the application to grant access.", display)})
			return
		}
		renderPage(w, http.StatusBadGateway, page{Title: "Linking failed", Message: fmt.Sprintf("%s reported the error %q, so nothing was linked. Start linking again from the application.", display, providerError)})
		return
	}

	// verify state
	claims, err := g.cfg.States.Verify(query.Get("state"))
	if err != nil {
		message := "The link request is invalid. Start linking again from the application."
		if errors.Is(err, oauthflow.ErrStateExpired) {
			message = "The link request expired: it is valid for 10 minutes. Start linking again from the application."
		}
		g.log.Warn("callback rejected", zap.String("app", g.cfg.App.Name), zap.String("step", "state"), zap.Error(err))
		g.failLink(w, http.StatusBadRequest, "invalid_state", message)
		return
	}
	key := vault.Key{App: claims.App, Tenant: claims.Tenant, Owner: claims.Owner}
	fields := accountLogFields(key)
	if claims.App != g.cfg.App.Name {
		g.log.Warn("callback rejected", append(fields, zap.String("step", "state"), zap.String("reason", "state was issued for another app"))...)
		g.failLink(w, http.StatusBadRequest, "invalid_state", fmt.Sprintf("The link request was made for another app, not %s. Start linking again from the application.", display))
		return
	}

	// spend state, once across all instances sharing the store
	if err := g.cfg.Store.ConsumeState(r.Context(), claims.ID, claims.ExpiresAt.Time); err != nil {
		if errors.Is(err, vault.ErrStateUsed) {
			g.log.Warn("callback rejected", append(fields, zap.String("step", "state"), zap.String("reason", "state already used"))...)
			g.failLink(w, http.StatusBadRequest, "invalid_state", "This link request was already used. Start linking again from the application.")
			return
		}
		g.log.Error("callback failed", append(fields, zap.String("step", "consume_state"), zap.Error(err))...)
		g.failLink(w, http.StatusServiceUnavailable, "failed", "The credential store is unavailable. Try again in a minute.")
		return
	}

	code := query.Get("code")
	if code == "" {
		g.log.Warn("callback rejected", append(fields, zap.String("step", "code"), zap.String("reason", "no code parameter"))...)
		g.failLink(w, http.StatusBadRequest, "failed", "The callback has no code parameter. Start linking again from the application.")
		return
	}

	// finish even if the browser goes away: the code is spent either way
	linkCtx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), linkTimeout)
	defer cancel()
	account, step, err := g.link(linkCtx, key, code)
	if err != nil {
		g.log.Warn("callback failed", append(fields, zap.String("step", step), zap.Error(err))...)
		status := http.StatusBadGateway
		if errors.Is(err, vault.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		g.failLink(w, status, "failed", fmt.Sprintf("Nothing was linked: %s failed: %s. Start linking again from the application.", step, publicReason(err)))
		return
	}
	g.log.Info("account linked", append(fields, zap.String("user_id", account.UserID), zap.String("username", account.Username))...)
	g.cfg.Metrics.AccountLink(g.cfg.App.Name, "linked")

	if claims.ReturnTo != "" && g.returnToAllowed(claims.ReturnTo) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, claims.ReturnTo, http.StatusFound)
		return
	}
	renderPage(w, http.StatusOK, page{
		Title:   "Account linked",
		Message: fmt.Sprintf("The %s account @%s (user id %s) is now linked for %s.", display, account.Username, account.UserID, key.Owner),
	})
}

// failLink counts a failed callback under result and shows the end user
// the failure page with message.
func (g *Gateway) failLink(w http.ResponseWriter, status int, result, message string) {
	g.cfg.Metrics.AccountLink(g.cfg.App.Name, result)
	renderPage(w, status, page{Title: "Linking failed", Message: message})
}

// link runs the token steps of the callback and stores the account. It
// returns the name of the step that failed.
func (g *Gateway) link(ctx context.Context, key vault.Key, code string) (*vault.Account, string, error) {
	provider := g.cfg.Provider

	short, err := provider.ExchangeCode(ctx, code)
	if err != nil {
		return nil, "code exchange", err
	}

	token := &oauthflow.Token{AccessToken: short.AccessToken}
	if provider.LongLivedExchange != nil {
		token, err = provider.ExchangeLongLived(ctx, short.AccessToken)
		if err != nil {
			return nil, "long-lived token exchange", err
		}
	}

	identity, err := provider.FetchIdentity(ctx, token.AccessToken)
	if err != nil {
		return nil, "account lookup", err
	}
	userID := identity.UserID
	if userID == "" {
		userID = short.UserID
	}

	scopes := short.Permissions
	if len(scopes) == 0 {
		scopes = provider.Scopes
	}
	now := g.now().UTC()
	issuedAt := token.IssuedAt
	if issuedAt.IsZero() {
		issuedAt = now
	}
	linked := &vault.Account{
		AccessToken: token.AccessToken,
		TokenType:   token.TokenType,
		ExpiresAt:   token.ExpiresAt,
		IssuedAt:    issuedAt,
		UserID:      userID,
		Username:    identity.Username,
		Scopes:      scopes,
		LinkedAt:    now,
		Status:      vault.StatusActive,
	}

	// a new link replaces whatever was stored, whatever its version
	stored, err := g.cfg.Store.Update(ctx, key, func(*vault.Account) (*vault.Account, error) {
		return linked, nil
	})
	if err != nil {
		return nil, "storing the account", err
	}
	return stored, "", nil
}

// publicReason is the part of an error that can be shown to an end user:
// a provider's own message, or a generic phrase. Provider errors never
// carry secrets; other errors are not shown.
func publicReason(err error) string {
	var perr *oauthflow.ProviderError
	if errors.As(err, &perr) {
		return perr.Error()
	}
	if errors.Is(err, vault.ErrUnavailable) {
		return "the credential store is unavailable"
	}
	return "see the gateway log for details"
}
