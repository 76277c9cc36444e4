package zalo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dieuphoi/dieuphoi/internal/tick"
	"github.com/dieuphoi/dieuphoi/storage"
)

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// loadTokens reads the stored tokens, storing seed first when there are
// none (or, with force, replacing them).
func (a *Adapter) loadTokens(ctx context.Context, seed *Tokens, force bool) error {
	cur, err := a.tokens.Get(ctx)
	switch {
	case isNotFound(err):
		if seed == nil || seed.AccessToken == "" || seed.RefreshToken == "" {
			return errors.New("zalo: no tokens stored yet; seed them (ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN) from the OA's authorisation")
		}
		s := a.seedTokens(*seed)
		if _, err := a.tokens.CAS(ctx, Tokens{}, s); err != nil {
			return fmt.Errorf("zalo: store the seed tokens: %w", err)
		}
		a.log.Info("zalo tokens seeded")
	case err != nil:
		return fmt.Errorf("zalo: read tokens: %w", err)
	case force && seed != nil && seed.RefreshToken != "" && seed.RefreshToken != cur.RefreshToken:
		ok, err := a.tokens.CAS(ctx, cur, a.seedTokens(*seed))
		if err != nil {
			return fmt.Errorf("zalo: replace the tokens with the seed: %w", err)
		}
		if ok {
			a.log.Info("zalo tokens replaced by the seed (forced)")
		}
	case seed != nil && seed.RefreshToken != cur.RefreshToken:
		a.log.Info("zalo tokens already stored; the seed tokens are ignored (force them to replace)")
	}
	cur, err = a.tokens.Get(ctx)
	if err != nil {
		return fmt.Errorf("zalo: read tokens: %w", err)
	}
	a.setTok(cur)
	return nil
}

// seedTokens fills in a seed's expiry: unknown means refresh at first use,
// which also learns the real expiry.
func (a *Adapter) seedTokens(s Tokens) Tokens {
	if s.ExpiresAt.IsZero() {
		s.ExpiresAt = a.now()
	}
	s.ExpiresAt = s.ExpiresAt.UTC()
	return s
}

// current returns this process's copy of the tokens.
func (a *Adapter) current() Tokens {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	return a.tok
}

// setTok keeps t when it is not older than the copy held.
func (a *Adapter) setTok(t Tokens) {
	a.tokMu.Lock()
	defer a.tokMu.Unlock()
	if t.Version >= a.tok.Version {
		a.tok = t
	}
}

// stale reports whether t should be refreshed now.
func (a *Adapter) stale(t Tokens) bool {
	return !a.now().Before(t.ExpiresAt.Add(-a.refreshBefore))
}

// accessToken returns the tokens to call the API with, refreshing them
// first when they are about to expire. A failed refresh is not fatal while
// the old token has not expired yet.
func (a *Adapter) accessToken(ctx context.Context) (Tokens, error) {
	t := a.current()
	if !a.stale(t) {
		return t, nil
	}
	nt, err := a.refresh(ctx, t, false)
	if err == nil {
		return nt, nil
	}
	if a.now().Before(t.ExpiresAt) {
		a.log.Warn("zalo token refresh failed; using the current token until it expires", "err", err)
		return t, nil
	}
	return Tokens{}, err
}

func (a *Adapter) refreshLoop(ctx context.Context, every time.Duration) {
	defer close(a.loopDone)
	if every < 0 {
		<-ctx.Done()
		return
	}
	tick.Every(ctx, every, a.refreshIfStale)
}

// refreshIfStale refreshes the tokens when they are about to expire.
func (a *Adapter) refreshIfStale(ctx context.Context) {
	// Another process may have refreshed: look at the store first.
	if t, err := a.tokens.Get(ctx); err == nil {
		a.setTok(t)
	}
	t := a.current()
	if !a.stale(t) {
		return
	}
	if _, err := a.refresh(ctx, t, false); err != nil && ctx.Err() == nil {
		a.log.Warn("zalo proactive token refresh failed", "err", err)
	}
}

// refresh returns tokens newer than seen: those another process or
// goroutine stored since, or new ones from Zalo. With force it refreshes
// even when seen has not expired (Zalo refused its access token).
//
// Within a process refreshMu lets one goroutine refresh at a time; across
// processes the store's lease does: only its holder calls Zalo, the others
// wait for the version to change and take the winner's tokens.
func (a *Adapter) refresh(ctx context.Context, seen Tokens, force bool) (Tokens, error) {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	if t := a.current(); t.Version > seen.Version {
		return t, nil // refreshed while we waited
	}
	deadline := a.now().Add(a.leaseTTL + a.callTimeout)
	for {
		cur, err := a.tokens.Get(ctx)
		if err != nil {
			return Tokens{}, fmt.Errorf("zalo: read tokens: %w", a.redact(err))
		}
		if cur.Version != seen.Version {
			a.setTok(cur)
			if cur.AccessToken != seen.AccessToken && (force || !a.stale(cur)) {
				a.reauthorized()
				return cur, nil
			}
			// Replaced by tokens as stale as ours (a seed): refresh those.
			seen = cur
		} else if !force && !a.stale(cur) {
			return cur, nil
		}
		if a.needsReauth.Load() && a.now().Sub(a.lastReauth) < a.reauthCooldown {
			return Tokens{}, ErrReauthorize
		}
		now := a.now()
		ok, err := a.tokens.Lease(ctx, cur.Version, a.owner, now, now.Add(a.leaseTTL))
		if err != nil {
			return Tokens{}, fmt.Errorf("zalo: take the refresh lease: %w", a.redact(err))
		}
		if ok {
			return a.refreshLeased(ctx, cur)
		}
		// Another process is refreshing: wait for its tokens.
		if a.now().After(deadline) {
			return Tokens{}, errors.New("zalo: token refresh: timed out waiting for another process's refresh")
		}
		if !sleep(ctx, a.leasePoll) {
			return Tokens{}, fmt.Errorf("zalo: token refresh: %w", ctx.Err())
		}
	}
}

// refreshLeased refreshes cur with Zalo while holding the lease and stores
// the result.
func (a *Adapter) refreshLeased(ctx context.Context, cur Tokens) (Tokens, error) {
	next, err := a.callRefresh(ctx, cur.RefreshToken)
	if err != nil {
		if rerr := a.tokens.Release(context.WithoutCancel(ctx), a.owner); rerr != nil {
			a.log.Warn("zalo: release the refresh lease", "err", a.redact(rerr))
		}
		if errors.Is(err, ErrReauthorize) {
			a.lastReauth = a.now()
			if !a.needsReauth.Swap(true) {
				a.log.Error("Zalo cần cấp quyền lại: Zalo refused the refresh token; authorise the OA for the app again and seed the new tokens",
					"oa", a.oaID, "err", err)
			}
		}
		return Tokens{}, err
	}
	next.Version = cur.Version + 1
	// The refresh token we held is spent now: the new pair must be stored,
	// whatever happens to ctx.
	sctx := context.WithoutCancel(ctx)
	var ok bool
	for attempt := 1; ; attempt++ {
		ok, err = a.tokens.CAS(sctx, cur, next)
		if err == nil || attempt == 5 {
			break
		}
		a.log.Warn("zalo: store refreshed tokens; retrying", "attempt", attempt, "err", a.redact(err))
		time.Sleep(a.backoff(attempt))
	}
	a.setTok(next) // this process works with them until they expire, stored or not
	switch {
	case err != nil:
		a.log.Error("zalo: refreshed tokens could not be stored; other processes will need re-authorisation", "err", a.redact(err))
	case !ok:
		a.log.Error("zalo: refreshed tokens lost the race to store them (lease expired?)", "version", cur.Version)
	default:
		a.log.Info("zalo tokens refreshed", "version", next.Version, "expires_at", next.ExpiresAt)
	}
	a.reauthorized()
	return next, nil
}

// reauthorized clears the re-authorisation alarm once tokens work again.
func (a *Adapter) reauthorized() {
	if a.needsReauth.Swap(false) {
		a.log.Info("zalo tokens usable again; re-authorisation alarm cleared")
	}
}

// flexInt decodes a JSON number or a string holding one (Zalo sends both).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	var n json.Number = json.Number(s)
	v, err := n.Int64()
	if err != nil {
		fl, ferr := n.Float64()
		if ferr != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		v = int64(fl)
	}
	*f = flexInt(v)
	return nil
}

type refreshAnswer struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	ExpiresIn    flexInt `json:"expires_in"`
	Error        flexInt `json:"error"`
	ErrorName    string  `json:"error_name"`
	ErrorReason  string  `json:"error_reason"`
	ErrorDesc    string  `json:"error_description"`
	Message      string  `json:"message"`
}

// callRefresh spends refreshToken for a new pair. Transport failures and
// HTTP 5xx are plain errors (try again later); an answer without a token
// pair wraps ErrReauthorize.
func (a *Adapter) callRefresh(ctx context.Context, refreshToken string) (Tokens, error) {
	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	form := url.Values{"app_id": {a.appID}, "grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.oauthBase+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo: refresh: %w", a.redact(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", a.appSecret)
	res, err := a.client.Do(req)
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo: refresh: %w", a.redact(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo: refresh: read answer: %w", a.redact(err))
	}
	if res.StatusCode >= 500 {
		return Tokens{}, fmt.Errorf("zalo: refresh: HTTP %d", res.StatusCode)
	}
	var ans refreshAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		if res.StatusCode != http.StatusOK {
			return Tokens{}, fmt.Errorf("zalo: refresh: HTTP %d", res.StatusCode)
		}
		return Tokens{}, fmt.Errorf("zalo: refresh: undecodable answer: %w", err)
	}
	if ans.AccessToken == "" || ans.RefreshToken == "" || ans.Error != 0 {
		msg := firstNonEmpty(ans.ErrorName, ans.ErrorReason, ans.ErrorDesc, ans.Message, fmt.Sprintf("HTTP %d without tokens", res.StatusCode))
		return Tokens{}, fmt.Errorf("%w: %w", ErrReauthorize, &APIError{Op: "refresh", Code: int(ans.Error), Message: a.scrub(msg)})
	}
	ttl := time.Duration(ans.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour // unknown: assume short, refresh early
	}
	return Tokens{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken, ExpiresAt: a.now().Add(ttl).UTC()}, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// MemoryStore is a TokenStore and InteractionStore in memory, for one
// process and tests. Production uses *sqlstore.ZaloStore.
type MemoryStore struct {
	mu         sync.Mutex
	tok        Tokens
	has        bool
	leaseOwner string
	leaseUntil time.Time
	last       map[string]time.Time
}

var (
	_ TokenStore       = (*MemoryStore)(nil)
	_ InteractionStore = (*MemoryStore)(nil)
)

// Get implements TokenStore.
func (m *MemoryStore) Get(context.Context) (Tokens, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.has {
		return Tokens{}, fmt.Errorf("zalo tokens: %w", storage.ErrNotFound)
	}
	return m.tok, nil
}

// CAS implements TokenStore.
func (m *MemoryStore) CAS(_ context.Context, old, next Tokens) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old.Version == 0 {
		if m.has {
			return false, nil
		}
		next.Version = 1
		m.tok, m.has = next, true
		return true, nil
	}
	if !m.has || m.tok.Version != old.Version {
		return false, nil
	}
	next.Version = old.Version + 1
	m.tok, m.leaseOwner, m.leaseUntil = next, "", time.Time{}
	return true, nil
}

// Lease implements TokenStore.
func (m *MemoryStore) Lease(_ context.Context, version int64, owner string, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.has || m.tok.Version != version {
		return false, nil
	}
	if m.leaseOwner != "" && m.leaseOwner != owner && now.Before(m.leaseUntil) {
		return false, nil
	}
	m.leaseOwner, m.leaseUntil = owner, until
	return true, nil
}

// Release implements TokenStore.
func (m *MemoryStore) Release(_ context.Context, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leaseOwner == owner {
		m.leaseOwner, m.leaseUntil = "", time.Time{}
	}
	return nil
}

// Touch implements InteractionStore.
func (m *MemoryStore) Touch(_ context.Context, userID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]time.Time{}
	}
	m.last[userID] = at.UTC()
	return nil
}

// LastInteraction implements InteractionStore.
func (m *MemoryStore) LastInteraction(_ context.Context, userID string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.last[userID]
	if !ok {
		return time.Time{}, fmt.Errorf("zalo interaction: %w", storage.ErrNotFound)
	}
	return at, nil
}
