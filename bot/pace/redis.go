package pace

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/internal/coalesce"
)

// Redis is a Limiter shared by every process on one Redis.
type Redis struct {
	rl *redis_rate.Limiter
	// rlReplies counts replies: in shared pipelines when the Client has
	// them (many at once under load); a waiting message's check (a few a
	// second, each before its slot) goes straight, as rl.
	rlReplies *redis_rate.Limiter
	piped     bool // rdb sends script runs in shared pipelines
	prefix    string
	chat      redis_rate.Limit
	group     redis_rate.Limit
	all       *overall
	// local paces this process alone while Redis cannot be reached: the
	// platform's 429 is the backstop for the others.
	local *Local
}

// Client is what the pace asks of Redis: its scripts and redis_rate's,
// and SET for a pause. A *goredis.Client is one; the session store's
// Scripts (storage/redis) sends the replies' per-chat counts made at the
// same moment in one pipeline instead of a round trip each.
type Client interface {
	goredis.Scripter
	Del(ctx context.Context, keys ...string) *goredis.IntCmd
	Set(ctx context.Context, key string, value any, expiration time.Duration) *goredis.StatusCmd
}

// NewRedis paces by lim on rdb, under keys starting with prefix (e.g.
// "dieuphoi:pace:telegram:").
func NewRedis(rdb Client, prefix string, lim Limits) *Redis {
	var plain Client = rdb
	u, piped := rdb.(unpiped)
	if piped {
		plain = u.Unpiped()
	}
	return &Redis{
		rl: redis_rate.NewLimiter(plain), rlReplies: redis_rate.NewLimiter(rdb), piped: piped, prefix: prefix,
		chat:  redis_rate.Limit{Rate: lim.PerChatPerSecond, Burst: 1, Period: period(time.Second)},
		group: redis_rate.Limit{Rate: lim.PerGroupPerMinute, Burst: 1, Period: period(time.Minute)},
		all:   newOverall(newRedisState(rdb, prefix, newParams(lim)), lim, settleDelay),
		local: NewLocal(lim),
	}
}

func (r *Redis) chatLimit(chat string) redis_rate.Limit {
	if group(chat) {
		return r.group
	}
	return r.chat
}

// Wait implements Limiter.
func (r *Redis) Wait(ctx context.Context, chat string) error {
	if err := r.wait(ctx, "chat:"+chat, r.chatLimit(chat)); err != nil {
		return err
	}
	t, err := r.all.waitTurn(ctx)
	if err != nil {
		return err
	}
	r.all.hold(chat, []*ticket{t})
	return nil
}

// wait takes one message of a chat's budget, waiting at most maxChatWait
// for it; a busier chat is a *BusyError with nothing booked.
func (r *Redis) wait(ctx context.Context, key string, lim redis_rate.Limit) error {
	for {
		res, err := r.rl.Allow(ctx, r.prefix+key, lim)
		if err != nil {
			return fmt.Errorf("pace: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		if res.RetryAfter > maxChatWait {
			return &BusyError{Wait: res.RetryAfter}
		}
		if !bot.Sleep(ctx, res.RetryAfter) {
			return ctx.Err()
		}
	}
}

// Take implements Limiter: the replies are counted in their chat's budget
// when it has room up to a second ahead (a burst of replyBurst), and
// admitted in the overall budget (before any waiting message, at most
// replyWait late). The two budgets are independent: asked at the same
// time, one round trip's wait for the replies instead of two.
func (r *Redis) Take(ctx context.Context, chat string, n int) error {
	cl := r.chatLimit(chat)
	cl.Burst = replyBurst
	chatc := make(chan error, 1)
	// The count rides the round trip of the budget's step asked below
	// (with the session save the dispatcher queued before), when the
	// Client pipelines (storage/redis.Scripts): the step is asked once
	// the count is queued.
	rctx, queued := coalesce.Ride(ctx, rideWait)
	go func() {
		_, err := r.rlReplies.AllowAtMost(rctx, r.prefix+"chat:"+chat, cl, n)
		chatc <- err
	}()
	var cerr error
	gotc := false
	if r.piped {
		select {
		case <-queued:
		case cerr = <-chatc:
			gotc = true
		}
	}
	ts, err := r.all.replyTurn(ctx, n)
	if !gotc {
		cerr = <-chatc
	}
	if err != nil {
		return err
	}
	r.all.hold(chat, ts)
	if cerr != nil {
		return fmt.Errorf("pace: %w", cerr)
	}
	return nil
}

// Admit implements Limiter.
func (r *Redis) Admit(ctx context.Context, chat string) (func(), error) {
	done, err := r.all.admit(ctx, chat, isReply(ctx))
	if err != nil && ctx.Err() == nil {
		return r.local.Admit(ctx, chat)
	}
	return done, err
}

// Pause implements Limiter.
func (r *Redis) Pause(ctx context.Context, until time.Time) error {
	_ = r.local.Pause(ctx, until)
	return r.all.st.pause(ctx, until)
}

// redisState is the budget in Redis: budget.go's memState.run, the same
// steps, in one script on Redis's clock. The replies' steps asked at the
// same moment by one process (the updates handled together) go in one
// script run, one after another as if they came in that order at
// the same microsecond: one EVALSHA, one clock read and one read of the
// pause for the lot instead of one each.
type redisState struct {
	rdb Client
	// piped runs the replies' batches: in the pipelines of the session
	// store when the Client has them, so that an update's per-chat count
	// and session save, riding (coalesce.Ride), go in the same round trip.
	piped Client
	p     params
	keys  []string
	batch *coalesce.Group[op, answer]
}

// Steps of one process in one script run: at most budgetBatch, at most
// budgetWorkers runs out at once (while they are, the next gather).
// rideWait bounds how long a reply's per-chat count waits for the
// pipeline of its budget step.
const (
	rideWait      = 20 * time.Millisecond
	budgetWorkers = 2
	budgetBatch   = 64
)

// unpiped is a Client that sends script runs in shared pipelines
// (storage/redis.Scripts) and offers the plain client, for the steps that
// go alone at once (a waiting message's, a settlement's).
type unpiped interface{ Unpiped() *goredis.Client }

func newRedisState(rdb Client, prefix string, p params) *redisState {
	piped := rdb
	if u, ok := rdb.(unpiped); ok {
		rdb = u.Unpiped()
	}
	// One hash tag: the keys live on one cluster slot.
	s := &redisState{rdb: rdb, piped: piped, p: p, keys: []string{prefix + "{budget}:sent", prefix + "{budget}:next", prefix + "{budget}:pause", prefix + "{budget}:waiters", prefix + "{budget}:replies"}}
	s.batch = coalesce.New(budgetWorkers, budgetBatch, s.runBatch)
	return s
}

func (s *redisState) pause(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	if err := s.rdb.Set(ctx, s.keys[2], strconv.FormatInt(until.UnixMilli(), 10), d).Err(); err != nil {
		return fmt.Errorf("pace: pause: %w", err)
	}
	return nil
}

func (s *redisState) run(ctx context.Context, x op) (answer, error) {
	if x.kind != opReply {
		// A waiting message's step (a broadcast: a few a second per
		// sender, each waiting for its slot) goes at once, not behind
		// a batch of replies.
		as, err := s.runSteps(ctx, s.rdb, []op{x})
		if err != nil {
			return answer{}, err
		}
		return as[0], nil
	}
	return s.batch.Do(ctx, x)
}

// runBatch runs the steps asked at the same moment, in order: one script
// run for each stretch of steps on the same clock (in production, all of
// them: the script reads Redis's).
func (s *redisState) runBatch(ctx context.Context, xs []op) ([]answer, []error) {
	as, errs := make([]answer, len(xs)), make([]error, len(xs))
	for i := 0; i < len(xs); {
		j := i + 1
		for j < len(xs) && xs[j].now == xs[i].now {
			j++
		}
		got, err := s.runSteps(ctx, s.piped, xs[i:j])
		for k := i; k < j; k++ {
			if err != nil {
				errs[k] = err
			} else {
				as[k] = got[k-i]
			}
		}
		i = j
	}
	return as, errs
}

func (s *redisState) runSteps(ctx context.Context, rdb Client, xs []op) ([]answer, error) {
	p := s.p
	ns, nargs := 0, 0
	for _, x := range xs {
		ns += len(x.settle)
		nargs += 5 + len(x.ids)
	}
	args := make([]any, 0, 8+2*ns+nargs)
	args = append(args, p.limit, p.window, p.interval, p.horizon, p.pending, xs[0].now, ns)
	for _, x := range xs {
		for _, st := range x.settle {
			args = append(args, st.id, st.at)
		}
	}
	args = append(args, len(xs))
	for _, x := range xs {
		marked := 0
		if x.marked {
			marked = 1
		}
		args = append(args, int(x.kind), x.maxWait.Microseconds(), x.waiter, marked, len(x.ids))
		for _, id := range x.ids {
			args = append(args, id)
		}
	}
	v, err := budgetScript.Run(ctx, rdb, s.keys, args...).Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(v) != 1+2*len(xs) {
		return nil, fmt.Errorf("budget script answered %v", v)
	}
	out := make([]answer, len(xs))
	for i := range xs {
		out[i] = answer{code: int(v[1+2*i]), wait: time.Duration(v[2+2*i]) * time.Microsecond, now: v[0]}
	}
	return out, nil
}

// budgetScript is memState.run in Lua (times in µs), for several steps in
// order.
// KEYS: sent (zset entry → µs), next (µs), pause (ms), waiters (zset),
// replies (the entries of sent that are replies).
// ARGV: limit, window, interval, horizon, pending, now (0: Redis's TIME),
// #settlements, then (entry, µs or -1) pairs (every step's), then #steps,
// then for each step: kind, maxwait, waiter, whether the waiter may have
// marks (1) or was never refused (0), #entries, the entries to admit. It
// returns now, then each step's code and wait.
// The sets' expiry is set once, at the end of the run, for each set a
// step or settlement added to (they all take the same TTL).
var budgetScript = goredis.NewScript(`
local limit, W, I, H, P = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = tonumber(ARGV[6])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local nxv
local function getnext()
  if not nxv then nxv = tonumber(redis.call('GET', KEYS[2]) or '0') end
  return nxv
end
local function setnext(v)
  nxv = v
  redis.call('SET', KEYS[2], string.format('%.0f', v), 'PX', math.ceil((v - now + W) / 1000))
end
local ns = tonumber(ARGV[7])
local a = 8
for _ = 1, ns do
  local id, at = ARGV[a], tonumber(ARGV[a + 1])
  if at < 0 then
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[5], id)
  else
    redis.call('ZADD', KEYS[1], at, id)
    redis.call('ZADD', KEYS[5], 'XX', at, id)
  end
  a = a + 2
end
local ttl = math.ceil((P + W) / 1000)
local added = {}
if ns > 0 then added[1] = true end
-- Entries leave the window once per run: the steps add theirs later than
-- now, so a second pass at the same now would remove nothing.
local expired = {}
-- The logs' sizes (sent, replies) are read once per run and kept up to
-- date by the run's own changes.
local card = {}
local function zcard(i)
  if not card[i] then card[i] = redis.call('ZCARD', KEYS[i]) end
  return card[i]
end
local function zadd(i, at, id)
  local new = redis.call('ZADD', KEYS[i], at, id)
  if card[i] then card[i] = card[i] + new end
end
local function expire(i, upto)
  if not expired[i] then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', upto)
    expired[i] = true
    card[i] = nil
  end
end
-- trim: memState's trim, the answered entries beyond the newest limit;
-- it returns how many it dropped. Once per log and run: the steps add
-- their entries later than now, so a second trim at the same now finds
-- no more than the limit answered.
local trimmed = {}
local function trim(i)
  if trimmed[i] then return 0 end
  trimmed[i] = true
  local done = redis.call('ZCOUNT', KEYS[i], '-inf', now)
  if done <= limit then return 0 end
  local dropped = redis.call('ZREMRANGEBYRANK', KEYS[i], 0, done - limit - 1)
  if card[i] then card[i] = card[i] - dropped end
  return dropped
end
local pz
local function step(kind, maxwait, waiter, marked, first, n)
  if kind == 0 then return 0, 0 end
  if not pz then pz = tonumber(redis.call('GET', KEYS[3]) or '0') * 1000 end
  if pz > now then return 4, pz - now end
  local nx = getnext()
  if kind == 1 then
    local slot = math.max(now, nx)
    if slot - now > H then return 3, slot - now - H + I end
    nx = slot + I
    setnext(nx)
    if slot > now then return 2, slot - now end
  end
  expire(1, now - W)
  local cnt = zcard(1)
  local full = cnt > 2 * limit
  if full then cnt = cnt - trim(1) end
  local lim = limit
  if kind ~= 3 then
    expire(4, now)
    lim = lim - redis.call('ZCARD', KEYS[4])
  end
  local wait = 0
  if cnt + n > lim then
    local k = cnt + n - lim
    wait = I
    if k <= cnt then
      local e = redis.call('ZRANGE', KEYS[1], k - 1, k - 1, 'WITHSCORES')
      wait = tonumber(e[2]) + W - now
    end
    wait = math.min(math.max(wait, 500), W)
  end
  local over = false
  if kind == 3 and wait > maxwait then
    expire(5, now - W)
    local rc = zcard(5)
    if full then rc = rc - trim(5) end
    over = rc + n > limit
  end
  if wait == 0 or over then
    if kind == 3 and not (wait > maxwait) then
      expire(5, now - W)
      if full then trim(5) end
    end
    for i = first, first + n - 1 do
      zadd(1, now + P, ARGV[i])
      if kind == 3 then zadd(5, now + P, ARGV[i]) end
    end
    added[1] = true
    if kind == 3 then added[5] = true end
    if kind == 3 then
      if marked then
        for i = 0, n - 1 do redis.call('ZREM', KEYS[4], waiter .. '#' .. i) end
      end
      local b = math.min(math.max(nx, now) + n * I, now + W)
      if b > nx then setnext(b) end
    end
    return 1, 0
  end
  if kind == 3 then
    for i = 0, n - 1 do redis.call('ZADD', KEYS[4], now + wait + 100000, waiter .. '#' .. i) end
    redis.call('PEXPIRE', KEYS[4], math.ceil((wait + W) / 1000))
    return 3, wait
  end
  if now + wait + I > nx then setnext(now + wait + I) end
  return 2, wait
end
local out = {now}
local steps = tonumber(ARGV[a])
a = a + 1
for _ = 1, steps do
  local kind, maxwait, waiter, marked, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3] == '1', tonumber(ARGV[a + 4])
  local code, wait = step(kind, maxwait, waiter, marked, a + 5, n)
  out[#out + 1] = code
  out[#out + 1] = wait
  a = a + 5 + n
end
if added[1] then redis.call('PEXPIRE', KEYS[1], ttl) end
if added[5] then redis.call('PEXPIRE', KEYS[5], ttl) end
return out
`)

// Scripts are the pace's own Lua scripts by name (to count their runs).
func Scripts() map[string]*goredis.Script {
	return map[string]*goredis.Script{"pace_budget": budgetScript}
}
