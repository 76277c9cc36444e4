// Package storagetest is the conformance suite every storage implementation
// passes: the same behaviour on PostgreSQL and on the embedded database.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/storage"
)

// Agencies and People are a small directory the suites use.
func Agencies() []domain.Agency {
	return []domain.Agency{
		{Code: "SKHCN", NameVI: "Sở Khoa học và Công nghệ", NameEN: "Department of Science and Technology", Kind: "department"},
		{Code: "STC", NameVI: "Sở Tài chính", NameEN: "Department of Finance", Kind: "department"},
	}
}

// People returns three people; the first two are delegates.
func People() []domain.Person {
	return []domain.Person{
		{ID: "DB001", FullName: "Nguyễn Văn An", Position: "Phó Giám đốc", AgencyCode: "STC", Phone: "0912345678", Roles: []domain.Role{domain.RoleDelegate}},
		{ID: "DB002", FullName: "Trần Thị Bình", Position: "Chuyên viên", AgencyCode: "STC", Phone: "0987654321", Roles: []domain.Role{domain.RoleDelegate, domain.RoleFocal}},
		{ID: "DB003", FullName: "Lê Minh Châu", Position: "Trưởng phòng", AgencyCode: "SKHCN", Phone: "0901234567", Roles: []domain.Role{domain.RoleStaff}},
	}
}

// Run runs the results-store suite; open returns a fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	ctx := context.Background()
	at := time.Date(2024, 7, 25, 9, 0, 0, 0, time.UTC)

	t.Run("directory gets tokens and keeps them across syncs", func(t *testing.T) {
		s := open(t)
		if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		d1, err := s.Directory(ctx)
		if err != nil {
			t.Fatalf("directory: %v", err)
		}
		ps := d1.People()
		if len(ps) != 3 || ps[0].ID != "DB001" || ps[2].ID != "DB003" {
			t.Fatalf("people = %+v, want DB001..DB003 in list order", ps)
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if len(p.InviteToken) < 22 || domain.NormalizeCode(p.InviteCode) == "" {
				t.Errorf("%s: token %q code %q: want a 128-bit token and a valid code", p.ID, p.InviteToken, p.InviteCode)
			}
			if seen[p.InviteToken] {
				t.Errorf("duplicate token %q", p.InviteToken)
			}
			seen[p.InviteToken] = true
		}
		if got := ps[1].Roles; len(got) != 2 || got[1] != domain.RoleFocal {
			t.Errorf("roles = %v, want delegate and focal", got)
		}
		// A second sync with a changed position keeps the tokens.
		people := People()
		people[0].Position = "Giám đốc"
		if err := s.SyncDirectory(ctx, Agencies(), people); err != nil {
			t.Fatalf("resync: %v", err)
		}
		d2, _ := s.Directory(ctx)
		p1, _ := d2.Person("DB001")
		if p1.Position != "Giám đốc" || p1.InviteToken != ps[0].InviteToken || p1.InviteCode != ps[0].InviteCode {
			t.Errorf("after resync: %+v; want new position, same token and code as %+v", p1, ps[0])
		}
		if got, ok := d2.ByToken(ps[1].InviteToken); !ok || got.ID != "DB002" {
			t.Errorf("ByToken = %v %v", got.ID, ok)
		}
		// A token given in the list wins.
		people[2].InviteToken = "given-token-aaaaaaaaaaaaa"
		if err := s.SyncDirectory(ctx, Agencies(), people); err != nil {
			t.Fatalf("resync with token: %v", err)
		}
		d3, _ := s.Directory(ctx)
		if got, ok := d3.ByToken("given-token-aaaaaaaaaaaaa"); !ok || got.ID != "DB003" {
			t.Errorf("given token not stored: %v %v", got.ID, ok)
		}
	})

	t.Run("sync with an unknown agency changes nothing", func(t *testing.T) {
		s := open(t)
		people := People()
		people[1].AgencyCode = "NOPE"
		if err := s.SyncDirectory(ctx, Agencies(), people); err == nil {
			t.Fatal("sync with unknown agency: want error")
		}
		d, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.People()); n != 0 {
			t.Errorf("people after failed sync = %d, want 0 (all or nothing)", n)
		}
	})

	t.Run("apply is idempotent per update", func(t *testing.T) {
		s := seeded(t, open)
		key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "100"}
		effects := []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: "42", ChatID: "42", PersonID: "DB001"}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		}
		applied, err := s.Apply(ctx, key, at, effects)
		if err != nil || !applied {
			t.Fatalf("first apply = %v, %v; want applied", applied, err)
		}
		applied, err = s.Apply(ctx, key, at.Add(time.Minute), effects)
		if err != nil || applied {
			t.Fatalf("replay = %v, %v; want not applied, no error", applied, err)
		}
		h, err := s.RSVPHistory(ctx, "DB001")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 1 {
			t.Fatalf("history = %d rows, want 1 after a replay", len(h))
		}
		pid, err := s.IdentityPerson(ctx, domain.Telegram, "42")
		if err != nil || pid != "DB001" {
			t.Errorf("identity = %q, %v", pid, err)
		}
		if _, err := s.IdentityPerson(ctx, domain.Zalo, "42"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown identity err = %v, want ErrNotFound", err)
		}
	})

	runBatch(t, open, at)

	t.Run("a failing effect rolls back the whole update", func(t *testing.T) {
		s := seeded(t, open)
		key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "7"}
		_, err := s.Apply(ctx, key, at, []domain.Effect{
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "NOBODY", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		})
		if err == nil {
			t.Fatal("apply with an unknown person: want error")
		}
		if h, _ := s.RSVPHistory(ctx, "DB001"); len(h) != 0 {
			t.Errorf("history = %d rows, want 0 after rollback", len(h))
		}
		// The update was not recorded either, so its redelivery applies.
		applied, err := s.Apply(ctx, key, at, []domain.Effect{
			domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}},
		})
		if err != nil || !applied {
			t.Fatalf("redelivery = %v, %v; want applied", applied, err)
		}
	})

	t.Run("history, current answer, substitute and language", func(t *testing.T) {
		s := seeded(t, open)
		sub := &domain.Substitute{Name: "Phạm Thu Hà", Position: "Phó Trưởng phòng", Phone: "0911222333"}
		steps := []domain.RSVP{
			{PersonID: "DB002", Status: domain.RSVPAttend, Channel: domain.Web, At: at},
			{PersonID: "DB002", Status: domain.RSVPSubstitute, Substitute: sub, Channel: domain.Telegram, At: at.Add(time.Hour)},
			{PersonID: "DB001", Status: domain.RSVPDecline, Channel: domain.Telegram, At: at.Add(2 * time.Hour)},
		}
		for i, r := range steps {
			key := domain.UpdateKey{Channel: r.Channel, UpdateID: fmt.Sprint(i)}
			if _, err := s.Apply(ctx, key, r.At, []domain.Effect{domain.SaveRSVP{RSVP: r}}); err != nil {
				t.Fatalf("apply %d: %v", i, err)
			}
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: "lang"}, at, []domain.Effect{domain.SetLanguage{PersonID: "DB002", Lang: domain.English}}); err != nil {
			t.Fatal(err)
		}
		st, err := s.PersonState(ctx, "DB002")
		if err != nil {
			t.Fatal(err)
		}
		if st.Lang != domain.English {
			t.Errorf("lang = %q, want en", st.Lang)
		}
		if st.RSVP == nil || st.RSVP.Status != domain.RSVPSubstitute || st.RSVP.Substitute == nil || *st.RSVP.Substitute != *sub {
			t.Fatalf("current = %+v, want the substitute %+v", st.RSVP, sub)
		}
		if !st.RSVP.At.Equal(at.Add(time.Hour)) {
			t.Errorf("at = %v, want %v", st.RSVP.At, at.Add(time.Hour))
		}
		h, _ := s.RSVPHistory(ctx, "DB002")
		if len(h) != 2 || h[0].Status != domain.RSVPAttend || h[1].Status != domain.RSVPSubstitute {
			t.Errorf("history = %+v, want attend then substitute", h)
		}
		cur, err := s.CurrentRSVPs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cur) != 2 || cur["DB001"].Status != domain.RSVPDecline || cur["DB002"].Status != domain.RSVPSubstitute {
			t.Errorf("current = %+v", cur)
		}
		none, err := s.PersonState(ctx, "DB003")
		if err != nil || none.RSVP != nil || none.Lang != "" {
			t.Errorf("no answer yet = %+v, %v", none, err)
		}

		// The dispatcher's one-query look at a chat agrees with the two.
		is, ok := s.(interface {
			IdentityState(ctx context.Context, ch domain.Channel, userID string) (domain.Identity, storage.PersonState, bool, error)
		})
		if !ok {
			return
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "link"}, at, []domain.Effect{
			domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: "77", ChatID: "77", PersonID: "DB002", Proof: domain.ProofLink}}}); err != nil {
			t.Fatal(err)
		}
		want, _ := s.Identity(ctx, domain.Telegram, "77")
		id, st2, found, err := is.IdentityState(ctx, domain.Telegram, "77")
		if err != nil || !found || id != want {
			t.Fatalf("identity and state = %+v, %v, %v; want %+v", id, found, err, want)
		}
		if st2.Lang != st.Lang || st2.Unreachable != st.Unreachable || st2.RSVP == nil || st2.RSVP.Status != st.RSVP.Status ||
			*st2.RSVP.Substitute != *st.RSVP.Substitute || !st2.RSVP.At.Equal(st.RSVP.At) {
			t.Errorf("state with the identity = %+v, want %+v", st2, st)
		}
		if _, _, found, err := is.IdentityState(ctx, domain.Telegram, "78"); !errors.Is(err, storage.ErrNotFound) || found {
			t.Errorf("unknown chat: found %v, err %v; want not found", found, err)
		}
	})

	t.Run("a substitute is a person with their own token while named", func(t *testing.T) {
		s := open(t)
		if err := s.SyncDirectory(ctx, Agencies(), People()); err != nil {
			t.Fatal(err)
		}
		n := 0
		save := func(st domain.RSVPStatus, sub *domain.Substitute, by string) domain.Person {
			t.Helper()
			n++
			if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: fmt.Sprint("sub", n)}, at.Add(time.Duration(n)*time.Minute),
				[]domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: st, Substitute: sub, Channel: domain.Web, By: by}}}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			d, err := s.Directory(ctx)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := d.Person(domain.SubstituteID("DB001"))
			return p
		}
		first := save(domain.RSVPSubstitute, &domain.Substitute{Name: "Phạm Thu Ha", Position: "Chuyên viên", Phone: "0911222333"}, "")
		if first.FullName != "Phạm Thu Ha" || first.SubstituteFor != "DB001" || first.AgencyCode != "STC" || !first.Has(domain.RoleSubstitute) ||
			first.InviteToken == "" || first.InviteCode == "" {
			t.Fatalf("substitute: %+v", first)
		}
		fixed := save(domain.RSVPSubstitute, &domain.Substitute{Name: "Phạm Thu Hà", Position: "Chuyên viên", Phone: "0911222333"}, "DB003")
		if fixed.FullName != "Phạm Thu Hà" || fixed.InviteToken != first.InviteToken || fixed.InviteCode != first.InviteCode {
			t.Errorf("a corrected name changed the invitation: %+v", fixed)
		}
		other := save(domain.RSVPSubstitute, &domain.Substitute{Name: "Lê Văn Khải", Position: "Chuyên viên", Phone: "0911999888"}, "")
		if other.InviteToken == first.InviteToken || other.InviteCode == first.InviteCode || other.Phone != "0911999888" {
			t.Errorf("another person kept the first one's invitation: %+v", other)
		}
		if gone := save(domain.RSVPAttend, nil, ""); gone.Has(domain.RoleSubstitute) {
			t.Errorf("still a substitute after attending: %+v", gone)
		}
		hist, err := s.RSVPHistory(ctx, "DB001")
		if err != nil || len(hist) != 4 || hist[1].By != "DB003" || hist[0].By != "" {
			t.Errorf("history authors: %+v %v", hist, err)
		}
	})

	t.Run("concurrent applies of one update apply once", func(t *testing.T) {
		s := seeded(t, open)
		key := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "race"}
		var wg sync.WaitGroup
		var mu sync.Mutex
		appliedCount := 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Apply(ctx, key, at, []domain.Effect{domain.SaveRSVP{RSVP: domain.RSVP{PersonID: "DB001", Status: domain.RSVPAttend, Channel: domain.Telegram, At: at}}})
				if err != nil {
					t.Errorf("apply: %v", err)
				}
				if ok {
					mu.Lock()
					appliedCount++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if h, _ := s.RSVPHistory(ctx, "DB001"); appliedCount != 1 || len(h) != 1 {
			t.Errorf("applied %d times, %d rows; want exactly 1", appliedCount, len(h))
		}
	})

	t.Run("processed update ids older than a week are pruned", func(t *testing.T) {
		s := seeded(t, open)
		p, ok := s.(interface {
			PruneProcessed(ctx context.Context, before time.Time) (int64, error)
		})
		if !ok {
			t.Fatal("the store cannot prune processed update ids")
		}
		old, recent := domain.UpdateKey{Channel: domain.Telegram, UpdateID: "old"}, domain.UpdateKey{Channel: domain.Web, UpdateID: "recent"}
		// One with effects (in a transaction), one without (one statement).
		if _, err := s.Apply(ctx, old, at.Add(-8*24*time.Hour), []domain.Effect{domain.SetLanguage{PersonID: "DB001", Lang: domain.English}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(ctx, recent, at.Add(-6*24*time.Hour-time.Second/2), nil); err != nil {
			t.Fatal(err)
		}
		n, err := p.PruneProcessed(ctx, at.Add(-7*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want 1", n, err)
		}
		if applied, err := s.Apply(ctx, old, at, nil); err != nil || !applied {
			t.Errorf("the week-old id is still recorded (%v, %v)", applied, err)
		}
		if applied, err := s.Apply(ctx, recent, at, nil); err != nil || applied {
			t.Errorf("the six-day-old id was pruned (%v, %v)", applied, err)
		}
	})

	t.Run("identities of a person across channels", func(t *testing.T) {
		s := seeded(t, open)
		for i, ch := range []domain.Channel{domain.Telegram, domain.Web} {
			key := domain.UpdateKey{Channel: ch, UpdateID: fmt.Sprint("link", i)}
			if _, err := s.Apply(ctx, key, at, []domain.Effect{domain.LinkIdentity{Identity: domain.Identity{Channel: ch, UserID: "u" + fmt.Sprint(i), ChatID: "c", PersonID: "DB002"}}}); err != nil {
				t.Fatal(err)
			}
		}
		ids, err := s.Identities(ctx, "DB002")
		if err != nil || len(ids) != 2 {
			t.Fatalf("identities = %+v, %v; want 2", ids, err)
		}
	})

	t.Run("notice targets: languages and chats of several people at once", func(t *testing.T) {
		s := seeded(t, open)
		nt, ok := s.(interface {
			NoticeTargets(ctx context.Context, personIDs []string) (map[string]storage.NoticeTarget, error)
		})
		if !ok {
			t.Skip("no NoticeTargets")
		}
		links := []domain.Identity{
			{Channel: domain.Telegram, UserID: "u2", ChatID: "c2", PersonID: "DB002", Proof: domain.ProofPhone},
			{Channel: domain.Web, UserID: "w2", ChatID: "cw", PersonID: "DB002", Proof: domain.ProofLink},
			{Channel: domain.Telegram, UserID: "u1", ChatID: "c1", PersonID: "DB001", Proof: domain.ProofLink},
		}
		for i, l := range links {
			if _, err := s.Apply(ctx, domain.UpdateKey{Channel: l.Channel, UpdateID: fmt.Sprint("nt", i)}, at, []domain.Effect{domain.LinkIdentity{Identity: l}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Web, UpdateID: "nt-lang"}, at, []domain.Effect{domain.SetLanguage{PersonID: "DB002", Lang: domain.English}}); err != nil {
			t.Fatal(err)
		}
		got, err := nt.NoticeTargets(ctx, []string{"DB002", "DB003", "nobody", "DB002"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("targets of %d people, want DB002 and DB003 (nobody does not exist): %+v", len(got), got)
		}
		d2 := got["DB002"]
		if d2.Lang != domain.English || len(d2.Links) != 2 {
			t.Fatalf("DB002 = %+v; want en and two chats", d2)
		}
		want, _ := s.Identities(ctx, "DB002")
		for i := range want {
			if d2.Links[i] != want[i] {
				t.Errorf("link %d = %+v, want %+v (as Identities reads it)", i, d2.Links[i], want[i])
			}
		}
		if d3, ok := got["DB003"]; !ok || d3.Lang != "" || len(d3.Links) != 0 {
			t.Errorf("DB003 = %+v, %v; want no language, no chat", d3, ok)
		}
	})

	t.Run("trust: proofs, enrolment links, check-in tokens, unlinking", func(t *testing.T) {
		s := seeded(t, open)
		ts, ok := s.(TrustStore)
		if !ok {
			t.Fatal("the store keeps no enrolment links")
		}
		dir, _ := s.Directory(ctx)
		for _, p := range dir.People() {
			if len(p.CheckinToken) < 22 || p.CheckinToken == p.InviteToken {
				t.Errorf("%s: check-in token %q: want its own 128-bit secret", p.ID, p.CheckinToken)
			}
		}
		n := 0
		link := func(user string, proof domain.Proof, enrol string) domain.Identity {
			t.Helper()
			n++
			if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: fmt.Sprint("tr", n)}, at, []domain.Effect{
				domain.LinkIdentity{Identity: domain.Identity{Channel: domain.Telegram, UserID: user, ChatID: user, PersonID: "DB001", Proof: proof}, Enrolment: enrol}}); err != nil {
				t.Fatal(err)
			}
			id, err := s.Identity(ctx, domain.Telegram, user)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		if id := link("7", domain.ProofPhone, ""); id.Proof != domain.ProofPhone || id.PersonID != "DB001" || id.LinkedAt.IsZero() {
			t.Fatalf("identity = %+v", id)
		}
		// Typing the code again keeps the stronger proof.
		if id := link("7", domain.ProofCode, ""); id.Proof != domain.ProofPhone {
			t.Errorf("relinked proof = %q, want it kept", id.Proof)
		}
		// An enrolment link works once, and not after it expires.
		if err := ts.CreateEnrolment(ctx, "hash-1", "DB001", "DB002", "console", at, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := ts.CreateEnrolment(ctx, "hash-2", "DB001", "cli", "cli", at.Add(-2*time.Hour), at.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if pid, err := ts.Enrolment(ctx, "hash-1", at); err != nil || pid != "DB001" {
			t.Fatalf("enrolment = %q, %v", pid, err)
		}
		if _, err := ts.Enrolment(ctx, "hash-2", at); !errors.Is(err, storage.ErrEnrolmentExpired) {
			t.Errorf("expired enrolment: %v", err)
		}
		if id := link("8", domain.ProofEnrol, "hash-1"); id.Proof != domain.ProofEnrol {
			t.Errorf("enrolled proof = %q", id.Proof)
		}
		if _, err := ts.Enrolment(ctx, "hash-1", at); !errors.Is(err, storage.ErrEnrolmentUsed) {
			t.Errorf("used enrolment: %v", err)
		}
		// Used already: the link is made, but not as verified.
		if id := link("9", domain.ProofEnrol, "hash-1"); id.Proof.Verified() {
			t.Errorf("a used enrolment link verified a second chat: %q", id.Proof)
		}
		if _, err := s.Apply(ctx, domain.UpdateKey{Channel: domain.Telegram, UpdateID: "unl"}, at, []domain.Effect{
			domain.UnlinkIdentity{Channel: domain.Telegram, UserID: "9", PersonID: "DB001", By: "DB001", From: domain.Telegram}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Identity(ctx, domain.Telegram, "9"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unlinked identity: %v", err)
		}
		// Rotation replaces all three secrets.
		before, _ := dir.Person("DB001")
		if err := ts.RotateSecrets(ctx, "DB001", "DB002", "console", at); err != nil {
			t.Fatal(err)
		}
		d2, _ := s.Directory(ctx)
		after, _ := d2.Person("DB001")
		if after.InviteToken == before.InviteToken || after.InviteCode == before.InviteCode || after.CheckinToken == before.CheckinToken {
			t.Errorf("rotate: %+v → %+v", before, after)
		}
		if _, ok := d2.ByCheckinToken(after.CheckinToken); !ok {
			t.Error("the new check-in token finds nobody")
		}
	})
}

// TrustStore is what the trust suite needs besides storage.Store.
type TrustStore interface {
	CreateEnrolment(ctx context.Context, tokenHash, personID, by string, from domain.Channel, now, expires time.Time) error
	Enrolment(ctx context.Context, tokenHash string, now time.Time) (string, error)
	RotateSecrets(ctx context.Context, personID, by string, from domain.Channel, now time.Time) error
}

func seeded(t *testing.T, open func(t *testing.T) storage.Store) storage.Store {
	t.Helper()
	s := open(t)
	if err := s.SyncDirectory(context.Background(), Agencies(), People()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return s
}

// RunSessions runs the session-store suite. open returns a fresh store;
// calling it twice in one test gives two handles on the same data, the way
// two processes see one Redis.
func RunSessions(t *testing.T, open func(t *testing.T) (a, b storage.SessionStore)) {
	ctx := context.Background()
	begin := func(t *testing.T, s storage.SessionStore, chat, update string) storage.Lease {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		turn, err := s.Begin(c, chat, update)
		if err != nil {
			t.Fatalf("begin %s %s: %v", chat, update, err)
		}
		if turn.Done || turn.Lease == nil {
			t.Fatalf("begin %s %s = %+v; want a lease", chat, update, turn)
		}
		return turn.Lease
	}
	t.Run("a turn saves the session and marks the update done", func(t *testing.T) {
		s, other := open(t)
		turn, err := s.Begin(ctx, "telegram:1", "telegram/1")
		if err != nil || turn.Done || turn.Lease == nil || len(turn.Session) != 0 {
			t.Fatalf("first begin = %+v, %v; want a lease and no session", turn, err)
		}
		if err := turn.Lease.Save(ctx, []byte(`{"s":"sub_name"}`)); err != nil {
			t.Fatal(err)
		}
		if err := turn.Lease.Save(ctx, []byte(`{"s":"sub_phone"}`)); err != nil {
			t.Fatal(err)
		}
		if err := turn.Lease.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		turn.Lease.Release() // harmless after Finish
		// The update is done, seen by the other handle; nothing is held.
		if turn, err := other.Begin(ctx, "telegram:1", "telegram/1"); err != nil || !turn.Done || turn.Lease != nil {
			t.Fatalf("begin of a finished update = %+v, %v; want Done", turn, err)
		}
		// The next update gets the saved session.
		turn, err = other.Begin(ctx, "telegram:1", "telegram/2")
		if err != nil || turn.Done || string(turn.Session) != `{"s":"sub_phone"}` {
			t.Fatalf("next begin = %+v (%q), %v", turn, turn.Session, err)
		}
		// Released without Finish: not done, and the lock is free again.
		turn.Lease.Release()
		turn.Lease.Release() // twice is harmless
		l := begin(t, s, "telegram:1", "telegram/2")
		l.Release()
		// Sessions are per chat.
		if turn, err := s.Begin(ctx, "telegram:2", "telegram/3"); err != nil || len(turn.Session) != 0 {
			t.Fatalf("other chat's session = %q, %v; want none", turn.Session, err)
		} else {
			turn.Lease.Release()
		}
	})
	t.Run("lock excludes until released", func(t *testing.T) {
		a, b := open(t)
		held := begin(t, a, "web:x", "web/1")
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if turn, err := b.Begin(short, "web:x", "web/2"); !errors.Is(err, storage.ErrLockTimeout) {
			t.Fatalf("second begin while held: %+v, %v; want ErrLockTimeout", turn, err)
		}
		// Another chat is not blocked.
		begin(t, b, "web:y", "web/3").Release()
		got := make(chan error, 1)
		go func() {
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			turn, err := b.Begin(c, "web:x", "web/2")
			if err == nil {
				turn.Lease.Release()
			}
			got <- err
		}()
		time.Sleep(50 * time.Millisecond)
		held.Release()
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("begin after release: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiter never got the lock after release")
		}
	})
	t.Run("an update finished while waiting is done", func(t *testing.T) {
		a, b := open(t)
		held := begin(t, a, "zalo:z", "zalo/1")
		got := make(chan storage.Turn, 1)
		go func() {
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			turn, err := b.Begin(c, "zalo:z", "zalo/1")
			if err != nil {
				t.Errorf("waiting begin: %v", err)
			}
			got <- turn
		}()
		time.Sleep(50 * time.Millisecond)
		if err := held.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case turn := <-got:
			if !turn.Done || turn.Lease != nil {
				t.Fatalf("waiter got %+v; want Done", turn)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("waiter never returned")
		}
		begin(t, b, "zalo:z", "zalo/2").Release()
	})
	t.Run("mark done keeps the lock", func(t *testing.T) {
		a, b := open(t)
		held := begin(t, a, "web:m", "web/m1")
		if err := held.MarkDone(ctx); err != nil {
			t.Fatal(err)
		}
		// Done now, answered without waiting for the lock.
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if turn, err := b.Begin(short, "web:m", "web/m1"); err != nil || !turn.Done {
			t.Fatalf("begin of a marked update = %+v, %v; want Done", turn, err)
		}
		shorter, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel2()
		if _, err := b.Begin(shorter, "web:m", "web/m2"); !errors.Is(err, storage.ErrLockTimeout) {
			t.Fatalf("begin while marked and held: %v; want ErrLockTimeout", err)
		}
		held.Release()
		begin(t, b, "web:m", "web/m2").Release()
	})
}
