package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// credential loads the account's token and keeps it alive. An expired or
// revoked token gets 401 with a consent URL and no upstream call. A token
// close to expiry and old enough is refreshed first. A failed refresh
// of a still-valid token is logged and the call goes on with it.
func (g *Gateway) credential(ctx context.Context, key vault.Key) (*vault.Account, *Error) {
	account, _, err := g.cfg.Store.Get(ctx, key)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, g.consentError(key, http.StatusNotFound, CodeAccountNotLinked,
			fmt.Sprintf("no %s account is linked for owner %q; send the end user to authorize_url to link one", g.cfg.App.DisplayName, key.Owner))
	}
	if err != nil {
		g.log.Error("reading credential failed", append(accountLogFields(key), zap.Error(err))...)
		return nil, newError(http.StatusServiceUnavailable, CodeCredentialStoreUnavailable,
			"the credential store is unavailable; retry later")
	}

	if account.Status == vault.StatusReauthorizationRequired {
		return nil, g.reauthorizationError(key, "the provider rejected the stored token")
	}

	now := g.now()
	switch g.cfg.Refresh.Decide(now, account.IssuedAt, account.ExpiresAt) {
	case oauthflow.Expired:
		return nil, g.reauthorizationError(key, fmt.Sprintf("the token expired at %s and can no longer be refreshed", formatTime(account.ExpiresAt)))
	case oauthflow.RefreshDue:
		refreshed, err := g.refresh(ctx, key, account)
		g.cfg.Metrics.TokenRefresh(key.App, "call", g.refreshResult(err))
		if isRefreshInProgress(err) {
			return account, nil
		}
		if g.isReauthorizationError(err) {
			return nil, g.reauthorizationError(key, "the provider rejected the token when refreshing it")
		}
		if err != nil {
			g.log.Error("token refresh failed",
				append(accountLogFields(key), zap.String("expires_at", formatTime(account.ExpiresAt)), zap.Error(err))...)
			return account, nil
		}
		if refreshed.Status == vault.StatusReauthorizationRequired {
			// another request met error 190 while this one waited
			return nil, g.reauthorizationError(key, "the provider rejected the stored token")
		}
		return refreshed, nil
	default:
		return account, nil
	}
}

// errRefreshInProgress means another gateway instance holds the refresh
// lease of the account; its token is still valid and stays in use.
var errRefreshInProgress = errors.New("another gateway instance is refreshing this token")

// refresh swaps the account's token for a new one and stores it. Concurrent
// calls for one account in this process share one refresh. Across
// processes, a lease written into the account with check-and-set lets one
// instance refresh while the others keep using the current token, so
// instances coordinate through Vault alone, with no lock server.
func (g *Gateway) refresh(ctx context.Context, key vault.Key, seen *vault.Account) (*vault.Account, error) {
	result, err, _ := g.flight.Do(key.App+"/"+key.Tenant+"/"+key.Owner, func() (any, error) {
		// the refresh outlives the request that started it, so that one
		// client giving up does not waste the refresh for the others
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.RefreshTimeout)
		defer cancel()
		return g.refreshWithLease(ctx, key, seen)
	})
	if err != nil {
		return nil, err
	}
	return result.(*vault.Account), nil
}

func (g *Gateway) refreshWithLease(ctx context.Context, key vault.Key, seen *vault.Account) (*vault.Account, error) {
	if until, waiting := g.backoff.waiting(key, g.now()); waiting {
		return nil, fmt.Errorf("%w until %s", errRefreshBackoff, formatTime(until))
	}

	current, version, err := g.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("re-reading before refresh: %w", err)
	}
	if current.AccessToken != seen.AccessToken || current.Status != vault.StatusActive {
		// another request or instance refreshed or re-linked meanwhile
		return current, nil
	}
	now := g.now()
	if g.leasedByOther(current, now) {
		return nil, errRefreshInProgress
	}

	// take the lease
	leased := *current
	leased.RefreshLeaseHolder = g.instanceID
	leased.RefreshLeaseUntil = now.Add(g.cfg.RefreshTimeout + leaseMargin).UTC()
	leaseVersion, err := g.cfg.Store.Put(ctx, key, &leased, version)
	if errors.Is(err, vault.ErrVersionConflict) {
		return g.afterLostRace(ctx, key, seen)
	}
	if err != nil {
		return nil, fmt.Errorf("taking the refresh lease: %w", err)
	}

	token, refreshErr := g.cfg.Provider.RefreshToken(ctx, current.AccessToken)
	if refreshErr != nil && !g.isReauthorizationError(refreshErr) {
		g.backoff.failed(key, g.now())
	} else {
		g.backoff.reset(key)
	}

	// the writes get a time of their own, so that a refresh that used up
	// the timeout still releases the lease
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseWriteTimeout)
	defer cancel()

	// store the new token and release the lease in one write
	next := leased
	next.RefreshLeaseHolder = ""
	next.RefreshLeaseUntil = time.Time{}
	var providerErr *oauthflow.ProviderError
	if errors.As(refreshErr, &providerErr) && g.isReauthorizationError(refreshErr) {
		// the provider reports the token dead: calls get 401 with a
		// consent URL at once, and sweeps stop retrying it
		next.Status = vault.StatusReauthorizationRequired
		next.StatusReason = fmt.Sprintf("refresh rejected: %s error code %d subcode %d: %s",
			g.cfg.App.DisplayName, providerErr.Code, providerErr.Subcode, providerErr.Message)
	}
	if refreshErr == nil {
		next.AccessToken = token.AccessToken
		if token.TokenType != "" {
			next.TokenType = token.TokenType
		}
		next.IssuedAt = token.IssuedAt
		next.ExpiresAt = token.ExpiresAt
		next.RefreshedAt = g.now().UTC()
	}
	_, err = g.cfg.Store.Put(ctx, key, &next, leaseVersion)
	if refreshErr != nil {
		if err != nil {
			// the lease ends by itself at RefreshLeaseUntil
			g.log.Warn("releasing refresh lease failed", append(accountLogFields(key), zap.Error(err))...)
		} else if next.Status == vault.StatusReauthorizationRequired {
			g.cfg.Metrics.AccountMarked(key.App, "refresh_rejected")
			g.log.Warn("account needs reauthorization", append(accountLogFields(key), zap.String("reason", next.StatusReason))...)
		}
		return nil, refreshErr
	}
	if errors.Is(err, vault.ErrVersionConflict) {
		// re-linked or marked meanwhile: what was written wins. The old
		// token stays valid until its own expiry.
		latest, _, getErr := g.cfg.Store.Get(ctx, key)
		if getErr != nil {
			return nil, fmt.Errorf("storing the refreshed token: %w", err)
		}
		return latest, nil
	}
	if err != nil {
		// NOTE: the provider may already have rotated the token; the old
		// one stays valid until its own expiry, so a later try repeats it.
		return nil, fmt.Errorf("storing the refreshed token: %w", err)
	}
	g.log.Info("token refreshed", append(accountLogFields(key), zap.String("expires_at", formatTime(next.ExpiresAt)))...)
	return &next, nil
}

// isRefreshInProgress reports whether a refresh was not tried because
// another instance holds the lease or a recent failure is waited out. The
// current token stays in use in both cases.
func isRefreshInProgress(err error) bool {
	return errors.Is(err, errRefreshInProgress) || errors.Is(err, errRefreshBackoff)
}

// formatTime writes t as RFC 3339 in UTC, as the store and messages do.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// errRefreshBackoff means a refresh of the account failed a short time
// ago in this process, so it is not tried again yet.
var errRefreshBackoff = errors.New("waiting after a failed refresh")

// isReauthorizationError reports whether err is a provider error meaning
// the token is dead.
func (g *Gateway) isReauthorizationError(err error) bool {
	var providerErr *oauthflow.ProviderError
	return errors.As(err, &providerErr) && providerErr.RequiresReauthorization(g.cfg.App.ReauthorizationErrorCodes)
}

// leaseMargin is added to the refresh timeout for the lease's length, so a
// lease never ends while its holder may still write. It is longer than
// leaseWriteTimeout for that reason.
const leaseMargin = 30 * time.Second

// leaseWriteTimeout bounds the write that stores the new token and
// releases the lease.
const leaseWriteTimeout = 15 * time.Second

// leasedByOther reports whether another instance holds a live lease.
func (g *Gateway) leasedByOther(a *vault.Account, now time.Time) bool {
	return a.RefreshLeaseHolder != "" && a.RefreshLeaseHolder != g.instanceID && now.Before(a.RefreshLeaseUntil)
}

// afterLostRace reads what another writer stored when taking the lease
// failed: a new token is used at once, otherwise another instance holds
// the lease.
func (g *Gateway) afterLostRace(ctx context.Context, key vault.Key, seen *vault.Account) (*vault.Account, error) {
	latest, _, err := g.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("re-reading after a concurrent write: %w", err)
	}
	if latest.AccessToken != seen.AccessToken || latest.Status != vault.StatusActive {
		return latest, nil
	}
	return nil, errRefreshInProgress
}

// markReauthorizationRequired records that the provider rejected token, so
// the next call gets 401 at once. A token stored meanwhile is kept.
func (g *Gateway) markReauthorizationRequired(ctx context.Context, key vault.Key, token string, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.RefreshTimeout)
	defer cancel()

	_, err := g.cfg.Store.Update(ctx, key, func(latest *vault.Account) (*vault.Account, error) {
		if latest == nil || latest.AccessToken != token || latest.Status == vault.StatusReauthorizationRequired {
			return nil, nil
		}
		next := *latest
		next.Status = vault.StatusReauthorizationRequired
		next.StatusReason = reason
		return &next, nil
	})
	if err != nil {
		g.log.Error("marking account for reauthorization failed", append(accountLogFields(key), zap.Error(err))...)
		return
	}
	g.cfg.Metrics.AccountMarked(key.App, "api_error")
	g.log.Warn("account needs reauthorization", append(accountLogFields(key), zap.String("reason", reason))...)
}

func (g *Gateway) reauthorizationError(key vault.Key, reason string) *Error {
	return g.consentError(key, http.StatusUnauthorized, CodeReauthorizationRequired,
		fmt.Sprintf("the %s account of owner %q must be linked again: %s; send the end user to authorize_url", g.cfg.App.DisplayName, key.Owner, reason))
}

// consentError is an error reply that carries a ready consent URL.
func (g *Gateway) consentError(key vault.Key, status int, code, message string) *Error {
	e := &Error{Status: status, Code: code, Message: message}
	authURL, err := g.authorizeURL(key, "")
	if err != nil {
		g.log.Error("issuing authorization url failed", append(accountLogFields(key), zap.Error(err))...)
		return e
	}
	e.AuthorizeURL = authURL
	return e
}
