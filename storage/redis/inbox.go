package redis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dieuphoi/dieuphoi/storage"
)

// Inbox is the inbox (bot/inbox.Store and Listener) kept in Redis: every
// call is one script, so one round trip and atomic. It keeps the promise of
// the acknowledgement (an acknowledged update is never lost, on a kill -9
// of a bot process nor on a restart of Redis) only on a Redis that writes
// every command to its append-only file before answering (appendonly yes,
// appendfsync always): CheckDurable tells.
//
// Keys (P is the store's prefix followed by "inbox:"):
//
//	P seq            the id counter: ids are drawn in order from it
//	P keys           hash, update key → id, while the item is in the inbox
//	P items          hash, id → the item (MessagePack: key, part, chat,
//	                 owner, payload, created)
//	P part:<n>       sorted set of the partition's ids (score = id)
//	P chat:<chat>    sorted set of the chat's ids: its latest is an
//	                 append's Prev
//	P owner:<holder> sorted set of the ids pinned to a process
//	P leases         hash, partition → "fence:expires ms:holder"
//	P workers        sorted set, holder → alive until (ms)
//
// Each append publishes the appending worker's holder on P wake
// (ListenInbox). Every key is reached from a script by name, so the Redis
// must be one server (not a cluster). Item.Facts stays empty: the
// dispatcher then reads who the chat is rather than trust its cache.
type Inbox struct {
	s      *Store
	prefix string
}

// Inbox returns the inbox kept in this store's Redis.
func (s *Store) Inbox() *Inbox { return &Inbox{s: s, prefix: s.prefix + "inbox:"} }

// inboxAppendScript appends items, skipping keys already there. KEYS[1] is
// the prefix; ARGV[1] the appending worker, then six per item: key, part,
// chat, owner, payload, created (ms). It returns the id and Prev of each
// item (0, 0 for a key already there, one earlier in the batch included).
var inboxAppendScript = goredis.NewScript(`
local p = KEYS[1]
local out = {}
local n = 0
for i = 2, #ARGV, 6 do
	local key, part, chat, owner = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3]
	if redis.call('HEXISTS', p .. 'keys', key) == 1 then
		out[#out+1] = 0
		out[#out+1] = 0
	else
		local id = string.format('%d', redis.call('INCR', p .. 'seq'))
		local ck = p .. 'chat:' .. chat
		local last = redis.call('ZREVRANGE', ck, 0, 0)
		redis.call('HSET', p .. 'keys', key, id)
		redis.call('HSET', p .. 'items', id, cmsgpack.pack(key, tonumber(part), chat, owner, ARGV[i+4], ARGV[i+5]))
		redis.call('ZADD', p .. 'part:' .. part, id, id)
		redis.call('ZADD', ck, id, id)
		if owner ~= '' then
			redis.call('ZADD', p .. 'owner:' .. owner, id, id)
		end
		out[#out+1] = tonumber(id)
		out[#out+1] = tonumber(last[1] or 0)
		n = n + 1
	end
end
if n > 0 then
	redis.call('PUBLISH', p .. 'wake', ARGV[1])
end
return out
`)

// inboxDeleteScript removes items by id. KEYS[1] is the prefix.
var inboxDeleteScript = goredis.NewScript(`
local p = KEYS[1]
for i = 1, #ARGV do
	local id = ARGV[i]
	local rec = redis.call('HGET', p .. 'items', id)
	if rec then
		local key, part, chat, owner = cmsgpack.unpack(rec)
		redis.call('HDEL', p .. 'items', id)
		if redis.call('HGET', p .. 'keys', key) == id then
			redis.call('HDEL', p .. 'keys', key)
		end
		redis.call('ZREM', p .. 'part:' .. part, id)
		redis.call('ZREM', p .. 'chat:' .. chat, id)
		if owner ~= '' then
			redis.call('ZREM', p .. 'owner:' .. owner, id)
		end
	end
end
return 0
`)

// inboxReadScript returns, oldest first, up to limit items after an id that
// a holder may handle at now, as sqlstore's ReadInbox: those pinned to it
// (fence 0), and in the partitions it leases those pinned to nobody or to
// a process no longer alive (with the lease's fence). KEYS[1] is the
// prefix; ARGV holder, now, after, limit. Eight values per item: id, key,
// part, chat, owner, payload, created, fence. The sources (the holder's
// pinned items and each leased partition) are merged by id, each read a
// few ids at a time: a long inbox is not read whole for a short answer.
var inboxReadScript = goredis.NewScript(`
local p = KEYS[1]
local holder, now, after, limit = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local chunk = math.min(limit, 64)
local src = {{key = p .. 'owner:' .. holder, fence = 0, from = after, buf = {}, at = 1, done = false}}
local leases = redis.call('HGETALL', p .. 'leases')
for j = 1, #leases, 2 do
	local fence, exp, h = string.match(leases[j+1], '^(%d+):(%-?%d+):(.*)$')
	if h == holder and tonumber(exp) > now then
		src[#src+1] = {key = p .. 'part:' .. leases[j], fence = tonumber(fence), from = after, buf = {}, at = 1, done = false}
	end
end
local function head(s)
	if s.at > #s.buf then
		if s.done then return nil end
		s.buf = redis.call('ZRANGEBYSCORE', s.key, '(' .. s.from, '+inf', 'LIMIT', 0, chunk)
		s.at = 1
		if #s.buf < chunk then s.done = true end
		if #s.buf == 0 then return nil end
		s.from = s.buf[#s.buf]
	end
	return tonumber(s.buf[s.at])
end
local alive = {}
local function live(owner)
	local a = alive[owner]
	if a == nil then
		local until_ = redis.call('ZSCORE', p .. 'workers', owner)
		a = until_ ~= false and tonumber(until_) > now
		alive[owner] = a
	end
	return a
end
local out = {}
local n = 0
while n < limit do
	local best, bestID = nil, nil
	for _, s in ipairs(src) do
		local id = head(s)
		if id and (bestID == nil or id < bestID) then
			best, bestID = s, id
		end
	end
	if best == nil then break end
	local id = best.buf[best.at]
	best.at = best.at + 1
	local rec = redis.call('HGET', p .. 'items', id)
	if rec then
		local key, part, chat, owner, payload, created = cmsgpack.unpack(rec)
		local fence = best.fence
		local take
		if fence == 0 then
			take = true
		else
			take = owner == '' or (owner ~= holder and not live(owner))
		end
		if take then
			out[#out+1] = bestID
			out[#out+1] = key
			out[#out+1] = part
			out[#out+1] = chat
			out[#out+1] = owner
			out[#out+1] = payload
			out[#out+1] = created
			out[#out+1] = fence
			n = n + 1
		end
	end
end
return out
`)

// inboxHeartbeatScript records a holder alive until ARGV[2], forgets those
// dead since before ARGV[3] and returns how many are alive at ARGV[4].
var inboxHeartbeatScript = goredis.NewScript(`
local w = KEYS[1] .. 'workers'
redis.call('ZADD', w, ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', w, '-inf', '(' .. ARGV[3])
return redis.call('ZCOUNT', w, '(' .. ARGV[4], '+inf')
`)

// inboxAcquireScript takes partition ARGV[1] for holder ARGV[2] until
// ARGV[3] when it is free or its lease ran out by ARGV[4]; it returns the
// new fence, 0 when the partition is held.
var inboxAcquireScript = goredis.NewScript(`
local l = KEYS[1] .. 'leases'
local v = redis.call('HGET', l, ARGV[1])
local fence = 1
if v then
	local f, exp = string.match(v, '^(%d+):(%-?%d+):')
	if tonumber(exp) > tonumber(ARGV[4]) then
		return 0
	end
	fence = tonumber(f) + 1
end
redis.call('HSET', l, ARGV[1], string.format('%d', fence) .. ':' .. ARGV[3] .. ':' .. ARGV[2])
return fence
`)

// inboxRenewScript extends holder ARGV[1]'s leases not run out by ARGV[3]
// to ARGV[2] and returns them: part and fence of each.
var inboxRenewScript = goredis.NewScript(`
local l = KEYS[1] .. 'leases'
local all = redis.call('HGETALL', l)
local out = {}
for j = 1, #all, 2 do
	local fence, exp, h = string.match(all[j+1], '^(%d+):(%-?%d+):(.*)$')
	if h == ARGV[1] and tonumber(exp) > tonumber(ARGV[3]) then
		redis.call('HSET', l, all[j], fence .. ':' .. ARGV[2] .. ':' .. h)
		out[#out+1] = tonumber(all[j])
		out[#out+1] = tonumber(fence)
	end
end
return out
`)

// inboxReleaseScript ends the leases of holder ARGV[1]: partition ARGV[2],
// or all of them when there is none; with ARGV[3] = "1" the holder is
// forgotten as a live consumer too (LeaveInbox).
var inboxReleaseScript = goredis.NewScript(`
local l = KEYS[1] .. 'leases'
local all = redis.call('HGETALL', l)
for j = 1, #all, 2 do
	local fence, h = string.match(all[j+1], '^(%d+):%-?%d+:(.*)$')
	if h == ARGV[1] and (ARGV[2] == '' or ARGV[2] == all[j]) then
		redis.call('HSET', l, all[j], fence .. ':0:' .. h)
	end
end
if ARGV[3] == '1' then
	redis.call('ZREM', KEYS[1] .. 'workers', ARGV[1])
end
return 0
`)

// inboxDepthScript returns how many items wait and the oldest's created
// (ms; 0 when none). It reads every id: for operators and tests, not for
// the path of an update.
var inboxDepthScript = goredis.NewScript(`
local p = KEYS[1]
local ids = redis.call('HKEYS', p .. 'items')
local oldest = nil
for _, id in ipairs(ids) do
	local n = tonumber(id)
	if oldest == nil or n < oldest then oldest = n end
end
if oldest == nil then return {0, '0'} end
local _, _, _, _, _, created = cmsgpack.unpack(redis.call('HGET', p .. 'items', string.format('%d', oldest)))
return {#ids, created}
`)

func inboxScripts() map[string]*goredis.Script {
	return map[string]*goredis.Script{"inbox_append": inboxAppendScript, "inbox_delete": inboxDeleteScript,
		"inbox_read": inboxReadScript, "inbox_heartbeat": inboxHeartbeatScript, "inbox_acquire": inboxAcquireScript,
		"inbox_renew": inboxRenewScript, "inbox_release": inboxReleaseScript, "inbox_depth": inboxDepthScript}
}

func (b *Inbox) run(ctx context.Context, script *goredis.Script, args ...any) *goredis.Cmd {
	return script.Run(ctx, b.s.rdb, []string{b.prefix}, args...)
}

// AppendInbox stores items in one script run, skipping keys already
// there, sets the ID and Prev of each new item and returns how many were
// new. by is the appending process's worker, published to the listeners.
func (b *Inbox) AppendInbox(ctx context.Context, by string, items []storage.InboxItem) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 1+6*len(items))
	args = append(args, by)
	for _, it := range items {
		args = append(args, it.Key, it.Part, it.Chat, it.Owner, it.Payload, it.Created.UnixMilli())
	}
	res, err := b.run(ctx, inboxAppendScript, args...).Int64Slice()
	if err == nil && len(res) != 2*len(items) {
		err = fmt.Errorf("%d values for %d items", len(res), len(items))
	}
	if err != nil {
		return 0, fmt.Errorf("append %d updates to the inbox: %w", len(items), err)
	}
	n := 0
	for i := range items {
		items[i].ID, items[i].Prev, items[i].Facts = res[2*i], res[2*i+1], storage.FactsVersion{}
		if items[i].ID != 0 {
			n++
		}
	}
	return n, nil
}

// ReadInbox returns, oldest first, up to limit items after id after that
// holder may handle at now (sqlstore's ReadInbox).
func (b *Inbox) ReadInbox(ctx context.Context, holder string, after int64, now time.Time, limit int) ([]storage.InboxItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	res, err := b.run(ctx, inboxReadScript, holder, now.UnixMilli(), after, limit).Slice()
	if err != nil {
		return nil, fmt.Errorf("read the inbox: %w", err)
	}
	if len(res)%8 != 0 {
		return nil, fmt.Errorf("read the inbox: %d values", len(res))
	}
	out := make([]storage.InboxItem, 0, len(res)/8)
	for i := 0; i < len(res); i += 8 {
		v := res[i : i+8]
		id, ok0 := v[0].(int64)
		key, ok1 := v[1].(string)
		part, ok2 := v[2].(int64)
		chat, ok3 := v[3].(string)
		owner, ok4 := v[4].(string)
		payload, ok5 := v[5].(string)
		created, ok6 := v[6].(string)
		fence, ok7 := v[7].(int64)
		ms, err := strconv.ParseInt(created, 10, 64)
		if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || err != nil {
			return nil, fmt.Errorf("read the inbox: item %v malformed", v[0])
		}
		out = append(out, storage.InboxItem{ID: id, Key: key, Part: int(part), Chat: chat, Owner: owner,
			Payload: []byte(payload), Created: time.UnixMilli(ms), Fence: fence})
	}
	return out, nil
}

// DeleteInbox removes handled items.
func (b *Inbox) DeleteInbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	if err := b.run(ctx, inboxDeleteScript, args...).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("delete %d handled updates from the inbox: %w", len(ids), err)
	}
	return nil
}

// InboxHeartbeat records holder as alive until now+ttl, forgets processes
// dead for a day, and returns how many are alive (holder included).
func (b *Inbox) InboxHeartbeat(ctx context.Context, holder string, now time.Time, ttl time.Duration) (int, error) {
	n, err := b.run(ctx, inboxHeartbeatScript, holder, now.Add(ttl).UnixMilli(), now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("inbox heartbeat: %w", err)
	}
	return n, nil
}

// InboxLeases returns every partition lease, live or not, by partition.
func (b *Inbox) InboxLeases(ctx context.Context) ([]storage.InboxLease, error) {
	all, err := b.s.rdb.HGetAll(ctx, b.prefix+"leases").Result()
	if err != nil {
		return nil, fmt.Errorf("read inbox leases: %w", err)
	}
	out := make([]storage.InboxLease, 0, len(all))
	for part, v := range all {
		l, err := parseLease(part, v)
		if err != nil {
			return nil, fmt.Errorf("read inbox leases: %w", err)
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Part < out[j].Part })
	return out, nil
}

// parseLease reads a lease as the scripts write it: "fence:expires:holder".
func parseLease(part, v string) (storage.InboxLease, error) {
	f, rest, ok1 := strings.Cut(v, ":")
	e, holder, ok2 := strings.Cut(rest, ":")
	p, err1 := strconv.Atoi(part)
	fence, err2 := strconv.ParseInt(f, 10, 64)
	exp, err3 := strconv.ParseInt(e, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil {
		return storage.InboxLease{}, fmt.Errorf("lease %q of partition %q malformed", v, part)
	}
	return storage.InboxLease{Part: p, Holder: holder, Fence: fence, Expires: time.UnixMilli(exp)}, nil
}

// AcquireInboxPart takes partition part for holder until now+ttl when it is
// free or its lease ran out, and returns the new fencing token: it grows
// with every take.
func (b *Inbox) AcquireInboxPart(ctx context.Context, part int, holder string, now time.Time, ttl time.Duration) (int64, bool, error) {
	fence, err := b.run(ctx, inboxAcquireScript, part, holder, now.Add(ttl).UnixMilli(), now.UnixMilli()).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("inbox partition %d: %w", part, err)
	}
	return fence, fence != 0, nil
}

// RenewInboxParts extends holder's leases that have not run out to now+ttl
// and returns them. A lease that ran out is not renewed even when nobody
// took it: it is taken again, with a new fence.
func (b *Inbox) RenewInboxParts(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]storage.InboxLease, error) {
	until := now.Add(ttl)
	res, err := b.run(ctx, inboxRenewScript, holder, until.UnixMilli(), now.UnixMilli()).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("renew inbox leases: %w", err)
	}
	out := make([]storage.InboxLease, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		out = append(out, storage.InboxLease{Part: int(res[i]), Holder: holder, Fence: res[i+1], Expires: time.UnixMilli(until.UnixMilli())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Part < out[j].Part })
	return out, nil
}

// ReleaseInboxPart gives partition part up when holder has it, so that
// another process takes it at once.
func (b *Inbox) ReleaseInboxPart(ctx context.Context, part int, holder string) error {
	if err := b.run(ctx, inboxReleaseScript, holder, strconv.Itoa(part), "0").Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("release inbox partition %d: %w", part, err)
	}
	return nil
}

// LeaveInbox releases all of holder's partitions and removes it from the
// live consumers (a clean shutdown).
func (b *Inbox) LeaveInbox(ctx context.Context, holder string) error {
	if err := b.run(ctx, inboxReleaseScript, holder, "", "1").Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("leave the inbox: %w", err)
	}
	return nil
}

// InboxDepth returns how many updates wait in the inbox and when the oldest
// arrived.
func (b *Inbox) InboxDepth(ctx context.Context) (int, time.Time, error) {
	res, err := b.run(ctx, inboxDepthScript).Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("%d values", len(res))
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("inbox depth: %w", err)
	}
	n, _ := res[0].(int64)
	created, _ := res[1].(string)
	ms, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("inbox depth: oldest created %q: %w", created, err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return int(n), time.UnixMilli(ms), nil
}

// ListenInbox calls wake at every append to the inbox by any process (the
// append's message on P wake, naming the appending worker) until ctx ends;
// listening reports whether messages are coming (false while the
// subscription is being made again). It holds one connection of its own.
func (b *Inbox) ListenInbox(ctx context.Context, listening func(bool), wake func(by string)) {
	storage.KeepListening(ctx, listening, func() error { return b.listen(ctx, listening, wake) })
}

func (b *Inbox) listen(ctx context.Context, listening func(bool), wake func(by string)) error {
	sub := b.s.rdb.Subscribe(ctx, b.prefix+"wake")
	// go-redis's Receive does not end with ctx while it waits on the
	// socket: closing the subscription does.
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer stop()
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		return fmt.Errorf("listen: %w", err)
	}
	listening(true)
	wake("") // anything appended before the subscription took effect
	for {
		// Receive, not Channel: a lost connection must be told (listening
		// false, the worker polls) rather than silently redialled.
		msg, err := sub.Receive(ctx)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		if m, ok := msg.(*goredis.Message); ok {
			wake(m.Payload)
		}
	}
}

// CheckDurable reports an error unless the Redis writes every command to
// its append-only file and syncs it before answering (appendonly yes and
// appendfsync always): only then is an update acknowledged after its
// append still there after Redis restarts (or its machine loses power).
// It asks CONFIG GET, and INFO persistence where CONFIG is refused (a
// managed Redis); INFO does not show appendfsync, so there it trusts only
// the aof_enabled line and says so.
func (b *Inbox) CheckDurable(ctx context.Context) error {
	const want = "the Redis inbox needs a Redis that writes every command to disk before answering " +
		"(appendonly yes, appendfsync always in redis.conf or by CONFIG SET)"
	cfg, err := b.s.rdb.ConfigGet(ctx, "append*").Result()
	if err == nil {
		if cfg["appendonly"] != "yes" || cfg["appendfsync"] != "always" {
			return fmt.Errorf("%s; this one has appendonly %q, appendfsync %q", want,
				cfg["appendonly"], cfg["appendfsync"])
		}
		return nil
	}
	info, ierr := b.s.rdb.Info(ctx, "persistence").Result()
	if ierr != nil {
		return fmt.Errorf("redis inbox: check persistence: CONFIG GET: %w; INFO: %w", err, ierr)
	}
	if !strings.Contains(info, "aof_enabled:1") {
		return fmt.Errorf("%s; this one has the append-only file off (INFO persistence; CONFIG GET refused: %v)", want, err)
	}
	return fmt.Errorf("%s; this one refuses CONFIG GET (%v), and INFO does not tell appendfsync: "+
		"cannot tell that it keeps the promise", want, err)
}
