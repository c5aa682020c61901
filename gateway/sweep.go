package gateway

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// AccountLister lists the linked accounts of an app. *vault.Store
// implements it.
type AccountLister interface {
	ListTenants(ctx context.Context, app string) ([]string, error)
	List(ctx context.Context, app, tenant string) ([]string, error)
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Checked   int
	Refreshed int
	Failed    int
	Expired   int
}

// Sweep refreshes every account of the app whose token is due, so that the
// token of an idle account does not expire. Calls refresh due tokens too,
// but only the sweep reaches accounts without calls. Failures of single accounts
// are logged and counted, and the sweep goes on; the error is only for a
// listing that failed.
//
// Instances sharing a Vault sweep independently; the refresh lease lets
// only one of them refresh each account.
func (g *Gateway) Sweep(ctx context.Context, lister AccountLister) (SweepResult, error) {
	var result SweepResult
	app := g.cfg.App.Name

	tenants, err := lister.ListTenants(ctx, app)
	if err != nil {
		return result, fmt.Errorf("listing tenants of %s: %w", app, err)
	}
	for _, tenant := range tenants {
		owners, err := lister.List(ctx, app, tenant)
		if err != nil {
			return result, fmt.Errorf("listing owners of %s tenant %s: %w", app, tenant, err)
		}
		for _, owner := range owners {
			if ctx.Err() != nil {
				return result, ctx.Err()
			}
			result.Checked++
			g.sweepAccount(ctx, vault.Key{App: app, Tenant: tenant, Owner: owner}, &result)
		}
	}
	return result, nil
}

func (g *Gateway) sweepAccount(ctx context.Context, key vault.Key, result *SweepResult) {
	account, _, err := g.cfg.Store.Get(ctx, key)
	if errors.Is(err, vault.ErrNotFound) {
		return
	}
	if err != nil {
		result.Failed++
		g.log.Error("background token refresh failed", append(accountLogFields(key), zap.String("step", "read"), zap.Error(err))...)
		return
	}
	if account.Status != vault.StatusActive {
		return
	}

	switch g.cfg.Refresh.Decide(g.now(), account.IssuedAt, account.ExpiresAt) {
	case oauthflow.Expired:
		result.Expired++
	case oauthflow.RefreshDue:
		_, err := g.refresh(ctx, key, account)
		g.cfg.Metrics.TokenRefresh(key.App, "sweep", g.refreshResult(err))
		if isRefreshInProgress(err) {
			return
		}
		if err != nil {
			result.Failed++
			g.log.Error("background token refresh failed",
				append(accountLogFields(key), zap.String("step", "refresh"), zap.String("expires_at", formatTime(account.ExpiresAt)), zap.Error(err))...)
			return
		}
		result.Refreshed++
	}
}
