package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/storage/files"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
	"github.com/dieuphoi/dieuphoi/web"
)

// eventStore is what events and campaigns as records need of the results
// store (both databases, through sqlstore).
type eventStore interface {
	storage.Store
	storage.CampaignStore
	SetEvent(id string)
	SetCampaign(id string)
	SetCurrent(ctx context.Context, eventID, campaignID string, at time.Time) error
	ImportEvent(ctx context.Context, r domain.EventRecord, at time.Time) (bool, error)
	ImportCampaign(ctx context.Context, c domain.CampaignRecord, at time.Time) (bool, error)
	Events(ctx context.Context) ([]domain.EventRecord, error)
	EventRSVPs(ctx context.Context, eventID string) (map[string]domain.RSVP, error)
	Event(ctx context.Context, id string) (domain.EventRecord, error)
	SetEventStatus(ctx context.Context, id string, s domain.Status, by string, at time.Time) error
	CloneEvent(ctx context.Context, from, id, code string, day time.Time, at time.Time) (domain.EventRecord, error)
	EventAnswerHistory(ctx context.Context, eventID string) ([]domain.RSVP, error)
	EventCheckIns(ctx context.Context, eventID string) (map[string]sqlstore.CheckIn, error)
	ScopeAudit(ctx context.Context, scope string) ([]sqlstore.AuditEntry, error)
	Campaigns(ctx context.Context) ([]domain.CampaignRecord, error)
	Campaign(ctx context.Context, id string) (domain.CampaignRecord, error)
	ApprovedValues(ctx context.Context, campaignID string) (map[[2]string]string, error)
	LoadCatalog(ctx context.Context) ([]domain.Indicator, []domain.Assignment, error)
	ImportBundle(ctx context.Context, b sqlstore.Bundle, at time.Time) (map[string]bool, error)
}

func asEventStore(st storage.Store) (eventStore, error) {
	es, ok := st.(eventStore)
	if !ok {
		return nil, errors.New("the database does not keep events and campaigns")
	}
	return es, nil
}

// importConfigEvent makes the config files' event and campaign records (an
// import, changing nothing when the files did not change) and makes them
// the ones the store answers for.
func importConfigEvent(ctx context.Context, st storage.Store, c *configs.Campaign, now time.Time) (*domain.CampaignRecord, error) {
	es, err := asEventStore(st)
	if err != nil {
		return nil, err
	}
	if err := checkCodes(ctx, es, []configs.Loaded{{Dir: ".", Campaign: c}}); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	ev, cp, hasCampaign, err := c.Records(c.ScheduleText)
	if err != nil {
		return nil, err
	}
	var current *domain.CampaignRecord
	campaignID := ""
	if hasCampaign {
		if _, err := es.ImportCampaign(ctx, cp, now); err != nil {
			return nil, fmt.Errorf("import the campaign: %w", err)
		}
		current, campaignID = &cp, cp.ID
	}
	if _, err := es.ImportEvent(ctx, ev, now); err != nil {
		return nil, fmt.Errorf("import the event: %w", err)
	}
	if err := es.SetCurrent(ctx, ev.Event.ID, campaignID, now); err != nil {
		return nil, err
	}
	return current, nil
}

// withPreviousValues gives the catalog last year's values from the
// campaign before c (its approved values), where it has them.
func withPreviousValues(ctx context.Context, st storage.Store, c *domain.CampaignRecord, inds []domain.Indicator) ([]domain.Indicator, error) {
	if c == nil || c.PreviousID == "" {
		return inds, nil
	}
	es, err := asEventStore(st)
	if err != nil {
		return nil, err
	}
	prev, err := es.Campaign(ctx, c.PreviousID)
	if errors.Is(err, storage.ErrNotFound) {
		return inds, nil // named but not (yet) in the database: the catalog file's values
	}
	if err != nil {
		return nil, fmt.Errorf("previous campaign %s: %w", c.PreviousID, err)
	}
	approved, err := es.ApprovedValues(ctx, prev.ID)
	if err != nil {
		return nil, err
	}
	return domain.WithLastYear(inds, *c, prev.NameVI, approved), nil
}

// otherEvents is the scheduler's Config.Events: every other open event
// in the database, read again at each evaluation so that the console's
// changes take effect without a restart.
func otherEvents(st storage.Store, primary string) (func(context.Context, time.Time) ([]scheduler.Config, error), error) {
	es, err := asEventStore(st)
	if err != nil {
		return nil, err
	}
	return scheduler.OpenEvents(es, primary), nil
}

// eventsCache lists the events for the dispatcher, checked at most every
// ttl: a person's card is built on every message. A store that counts
// changes to the events (sqlstore.EventsVersion) is asked for that one
// number; the whole list with its invitees is read again only when it
// moved, or after maxAge (a change made past the store's counter, by hand).
type eventsCache struct {
	es  eventStore
	ttl time.Duration

	mu      sync.Mutex
	at      time.Time // last checked
	readAt  time.Time // last read whole
	version int64
	list    []domain.EventRecord
}

// eventsMaxAge bounds how long the events are served without a whole read.
const eventsMaxAge = time.Minute

func (c *eventsCache) Events(ctx context.Context) ([]domain.EventRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.list != nil && now.Sub(c.at) < c.ttl {
		return c.list, nil
	}
	vs, counted := c.es.(interface {
		EventsVersion(ctx context.Context) (int64, error)
	})
	var v int64
	if counted {
		var err error
		if v, err = vs.EventsVersion(ctx); err != nil {
			return nil, err
		}
		if c.list != nil && v == c.version && now.Sub(c.readAt) < eventsMaxAge {
			c.at = now
			return c.list, nil
		}
	}
	// The version is read before the list: a change committed in between
	// is either in the list or makes the next check read again.
	list, err := c.es.Events(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []domain.EventRecord{}
	}
	c.list, c.at, c.readAt, c.version = list, now, now, v
	return list, nil
}

// Warm reads the events with their invitees before the first update needs
// them, and leaves the list due for a version check: the first update
// after a start then asks for one number, not the whole list, yet still
// sees an event added since.
func (c *eventsCache) Warm(ctx context.Context) error {
	if _, err := c.Events(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
	return nil
}

// eventHeadcount is /tonghop for an event other than the served one: its
// invitees' answers and check-ins, under its name.
func eventHeadcount(ctx context.Context, st storage.Store, dir *domain.Directory, id string, lang domain.Lang, now time.Time) ([]flows.Reply, error) {
	h, rec, err := eventCount(ctx, st, dir, id)
	if err != nil {
		return nil, err
	}
	return []flows.Reply{{Text: "📅 " + rec.Event.Name(lang) + "\n" + flows.RenderHeadcount(lang, h, now.In(rec.Event.Location))}}, nil
}

// eventCount counts an event's invitees by answer and check-in.
func eventCount(ctx context.Context, st storage.Store, dir *domain.Directory, id string) (flows.Headcount, domain.EventRecord, error) {
	es, err := asEventStore(st)
	if err != nil {
		return flows.Headcount{}, domain.EventRecord{}, err
	}
	rec, err := es.Event(ctx, id)
	if err != nil {
		return flows.Headcount{}, rec, fmt.Errorf("event %s: %w", id, err)
	}
	answers, err := es.EventRSVPs(ctx, id)
	if err != nil {
		return flows.Headcount{}, rec, err
	}
	checks, err := es.EventCheckIns(ctx, id)
	if err != nil {
		return flows.Headcount{}, rec, err
	}
	var people []domain.Person
	for _, i := range rec.Invitees {
		if p, ok := dir.Person(i.PersonID); ok {
			people = append(people, p)
		}
	}
	checkedIn := map[string]bool{}
	for pid := range checks {
		checkedIn[pid] = true
	}
	return flows.CountHeadcount(domain.NewDirectory(people, dir.Agencies()), answers, checkedIn), rec, nil
}

// checkCodes refuses events whose code another event in the database
// already has, naming the file, line and field as `dieuphoi check` does.
func checkCodes(ctx context.Context, es eventStore, loaded []configs.Loaded) error {
	stored, err := es.Events(ctx)
	if err != nil {
		return err
	}
	owner := map[string]string{}
	for _, r := range stored {
		owner[r.Code] = r.Event.ID
	}
	var probs []configs.Problem
	for _, l := range loaded {
		code := l.Campaign.EventCode()
		if id, ok := owner[code]; ok && id != l.Campaign.Event.ID {
			file := configs.EventFile
			if l.Dir != "." {
				file = l.Dir + "/" + file
			}
			probs = append(probs, configs.Problem{File: file, Row: l.Campaign.CodeLine, Field: "code",
				Msg: fmt.Sprintf("«%s» is already the code of event %s: two events cannot share a code", code, id)})
		}
	}
	if len(probs) > 0 {
		return &configs.ValidationError{Problems: probs}
	}
	return nil
}

// runImport is `dieuphoi import DIR`: every event (event.yaml, or a
// folder per event) and the deployment's files at the top (campaigns.yaml,
// indicators.csv, agencies.csv, people.csv) are checked first (files, rows
// and fields named, schedules against their people and agenda, codes
// against the database); with any problem nothing is imported. Then
// everything is written in one database transaction, so a failure
// part-way (a code taken meanwhile, the database going away) leaves
// nothing either. People and agencies are added or updated, never
// removed.
func runImport(ctx context.Context, s settings, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: dieuphoi import DIR")
	}
	fsys := os.DirFS(args[0])
	var loaded []configs.Loaded
	_, topEvent := fs.Stat(fsys, configs.EventFile)
	subEvents, _ := fs.Glob(fsys, "*/"+configs.EventFile)
	_, hasCampaigns := fs.Stat(fsys, configs.CampaignsFile)
	if topEvent == nil || len(subEvents) > 0 || hasCampaigns != nil {
		var err error
		loaded, err = configs.LoadMany(fsys, func(sub fs.FS, c *configs.Campaign) error {
			if c.ScheduleText == "" {
				return nil
			}
			sc, err := scheduler.LoadSchedule(sub, "schedule.yaml")
			if err == nil {
				err = sc.Check(domain.NewDirectory(c.People, c.Agencies), len(c.Event.Agenda))
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("nothing imported; the files in %s have problems:\n%w", args[0], err)
		}
	}
	var b sqlstore.Bundle
	agencyAt, personAt := map[string]int{}, map[string]int{}
	addPeople := func(agencies []domain.Agency, people []domain.Person) {
		for _, a := range agencies {
			if i, ok := agencyAt[a.Code]; ok {
				b.Agencies[i] = a
				continue
			}
			agencyAt[a.Code] = len(b.Agencies)
			b.Agencies = append(b.Agencies, a)
		}
		for _, p := range people {
			if i, ok := personAt[p.ID]; ok {
				b.People[i] = p
				continue
			}
			personAt[p.ID] = len(b.People)
			b.People = append(b.People, p)
		}
	}
	campaignAt := map[string]int{}
	addCampaign := func(c domain.CampaignRecord) {
		if i, ok := campaignAt[c.ID]; ok {
			b.Campaigns[i] = c
			return
		}
		campaignAt[c.ID] = len(b.Campaigns)
		b.Campaigns = append(b.Campaigns, c)
	}
	for _, l := range loaded {
		c := l.Campaign
		addPeople(c.Agencies, c.People)
		ev, cp, hasCampaign, err := c.Records(c.ScheduleText)
		if err != nil {
			return err
		}
		if hasCampaign {
			addCampaign(cp)
		}
		b.Events = append(b.Events, ev)
	}
	dep, err := configs.LoadDeployment(fsys, b.Agencies, b.People)
	if err != nil {
		return fmt.Errorf("nothing imported; the files in %s have problems:\n%w", args[0], err)
	}
	addPeople(dep.Agencies, dep.People)
	b.Indicators = dep.Indicators
	for _, c := range dep.Campaigns {
		if c.SourceHash, err = campaignHash(c); err != nil {
			return err
		}
		addCampaign(c)
	}
	st, err := openStore(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	es, err := asEventStore(st)
	if err != nil {
		return err
	}
	if err := checkCodes(ctx, es, loaded); err != nil {
		return fmt.Errorf("nothing imported:\n%w", err)
	}
	var probs []configs.Problem
	for i, c := range dep.Campaigns {
		if _, ok := campaignAt[c.PreviousID]; ok || c.PreviousID == "" {
			continue
		}
		if _, err := es.Campaign(ctx, c.PreviousID); errors.Is(err, storage.ErrNotFound) {
			probs = append(probs, configs.Problem{File: configs.CampaignsFile, Field: fmt.Sprintf("campaigns[%d].previous", i+1),
				Msg: fmt.Sprintf("«%s» is neither a campaign of this file nor one in the database", c.PreviousID)})
		} else if err != nil {
			return err
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("nothing imported:\n%w", &configs.ValidationError{Problems: probs})
	}
	now := time.Now()
	changed, err := es.ImportBundle(ctx, b, now)
	if err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	// The plan's tasks and the documents are kept by their own stores (the
	// documents' files in the evidence folder), after the records.
	for _, l := range loaded {
		if err := importMeetingFiles(ctx, s, st, l.Campaign, now); err != nil {
			return fmt.Errorf("import the plan and documents of %s: %w", l.Campaign.Event.ID, err)
		}
	}
	what := func(ch bool) string {
		if ch {
			return "đã nhập"
		}
		return "không đổi"
	}
	for _, c := range b.Campaigns {
		n := "chỉ số giao theo tệp cấu hình"
		if c.Assignments != nil {
			n = fmt.Sprintf("%d chỉ số giao", len(c.Assignments))
		}
		fmt.Fprintf(stdout, "chiến dịch %s: %s — %s.\n", c.ID, what(changed["campaign:"+c.ID]), n)
	}
	for _, ev := range b.Events {
		fmt.Fprintf(stdout, "%s (%s): %s — %d người mời.\n", ev.Event.ID, ev.Code, what(changed["event:"+ev.Event.ID]), len(ev.Invitees))
	}
	if b.Indicators != nil {
		fmt.Fprintf(stdout, "danh mục: %d chỉ số.\n", len(b.Indicators))
	}
	return nil
}

// runExportConfig is `dieuphoi export-config DIR`: the deployment's files
// at the top (writeDeployment: campaigns, catalog, agencies, people) and
// one folder per event with its event.yaml, agencies.csv, delegates.csv
// and schedule.yaml, in the format import reads. Invite tokens and codes are not written (the
// database keeps them, and an import without them keeps them too).
func runExportConfig(ctx context.Context, s settings, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: dieuphoi export-config DIR")
	}
	st, err := openStore(ctx, s)
	if err != nil {
		return err
	}
	defer st.Close()
	es, err := asEventStore(st)
	if err != nil {
		return err
	}
	events, err := es.Events(ctx)
	if err != nil {
		return err
	}
	dir, err := st.Directory(ctx)
	if err != nil {
		return err
	}
	campaigns, err := es.Campaigns(ctx)
	if err != nil {
		return err
	}
	inds, err := catalogOf(ctx, es)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(args[0], 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := writeDeployment(args[0], dir, inds, campaigns, campaignZone(events)); err != nil {
		return fmt.Errorf("export campaigns: %w", err)
	}
	fmt.Fprintf(stdout, "%d chiến dịch, %d chỉ số, %d người → %s\n", len(campaigns), len(inds), len(dir.People()), args[0])
	for _, r := range events {
		out := filepath.Join(args[0], r.Event.ID)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return fmt.Errorf("export %s: %w", r.Event.ID, err)
		}
		owners, err := writeEventPlan(ctx, st, out, r)
		if err != nil {
			return fmt.Errorf("export %s: %w", r.Event.ID, err)
		}
		// A task's owner must be in the event's people list for the import
		// to take the task; one not invited is listed too (and so invited
		// by the import, as the example lists the Sở's staff).
		for _, id := range owners {
			if !r.Invited(id) && len(r.Invitees) > 0 {
				r.Invitees = append(r.Invitees, domain.Invitee{PersonID: id})
				fmt.Fprintf(stdout, "%s: %s phụ trách công việc nhưng chưa được mời — đã ghi vào delegates.csv.\n", r.Event.ID, id)
			}
		}
		if err := writeEventFiles(out, r, dir); err != nil {
			return fmt.Errorf("export %s: %w", r.Event.ID, err)
		}
		ndocs, err := writeEventDocuments(ctx, s, st, out, r)
		if err != nil {
			return fmt.Errorf("export %s: %w", r.Event.ID, err)
		}
		fmt.Fprintf(stdout, "%s → %s (%d tài liệu)\n", r.Event.ID, out, ndocs)
	}
	return nil
}

// writeEventPlan writes the event's plan tasks as tasks.csv (the format
// configs.LoadTasks reads: status as its code, deadline dd/mm/yyyy hh:mm
// in the event's zone), none when it has none, and returns their owners.
// Follow-up tasks belong to a conclusion notice and are not part of the
// plan.
func writeEventPlan(ctx context.Context, st storage.Store, out string, r domain.EventRecord) ([]string, error) {
	ts, ok := st.(storage.TaskStore)
	if !ok {
		return nil, nil
	}
	tasks, err := ts.Tasks(ctx, r.Event.ID)
	if err != nil {
		return nil, fmt.Errorf("the plan: %w", err)
	}
	var rows [][]string
	var owners []string
	for _, t := range tasks {
		if t.Kind != domain.TaskKindPlan {
			continue
		}
		rows = append(rows, []string{t.ID, t.Title, t.Unit, t.OwnerID, t.Deadline.In(r.Event.Location).Format("02/01/2006 15:04"),
			string(t.Status), t.Note})
		if !slices.Contains(owners, t.OwnerID) {
			owners = append(owners, t.OwnerID)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return owners, writeCSV(filepath.Join(out, configs.TasksFile), []string{"id", "task", "unit", "owner", "deadline", "status", "note"}, rows)
}

// writeEventDocuments writes the event's documents (internal ones too,
// marked) under documents/ with documents.csv listing them as
// loadDocumentsFile reads it: the agenda item by its place in the agenda.
func writeEventDocuments(ctx context.Context, s settings, st storage.Store, out string, r domain.EventRecord) (int, error) {
	ms, ok := st.(docStore)
	if !ok {
		return 0, nil
	}
	docs, err := ms.MeetingDocs(ctx, r.Event.ID, true)
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	blobs, err := files.New(filepath.Join(s.DataDir, "evidence"))
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(out, "documents"), 0o755); err != nil {
		return 0, err
	}
	place := map[int]int{}
	for i, a := range r.Event.Agenda {
		place[a.No] = i + 1
	}
	used := map[string]bool{}
	var rows [][]string
	for i, d := range docs {
		// The stored name is already safe (files.SafeName); two documents
		// may share one, so the second is numbered.
		name := files.SafeName(d.FileName, d.MIME)
		if name == "" {
			name = fmt.Sprintf("tai-lieu-%d", i+1)
		}
		if used[strings.ToLower(name)] {
			name = fmt.Sprintf("%d-%s", i+1, name)
		}
		used[strings.ToLower(name)] = true
		if err := copyBlob(blobs, d.SHA256, filepath.Join(out, "documents", name)); err != nil {
			return 0, fmt.Errorf("document %q: %w", d.Title, err)
		}
		item, internal := "", ""
		if n, ok := place[d.AgendaNo]; ok && d.AgendaNo != 0 {
			item = strconv.Itoa(n)
		}
		if d.Internal {
			internal = "có"
		}
		rows = append(rows, []string{"documents/" + name, d.Title, item, internal})
	}
	return len(rows), writeCSV(filepath.Join(out, configs.DocumentsFile), []string{"file", "title", "item", "internal"}, rows)
}

func copyBlob(blobs *files.Store, sha, to string) error {
	in, err := blobs.Open(sha)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeEventFiles(out string, r domain.EventRecord, dir *domain.Directory) error {
	ev := r.Event
	loc := ev.Location
	text := func(vi, en string) map[string]string {
		m := map[string]string{"vi": vi}
		if en != "" {
			m["en"] = en
		}
		return m
	}
	clock := func(t time.Time) string { return t.In(loc).Format("15:04") }
	var agenda []map[string]any
	for _, a := range ev.Agenda {
		item := map[string]any{"start": clock(a.Start), "end": clock(a.End), "title": text(a.TitleVI, a.TitleEN)}
		if a.SpeakerVI != "" {
			item["speaker"] = text(a.SpeakerVI, a.SpeakerEN)
		}
		agenda = append(agenda, item)
	}
	organizer := map[string]string{"name": ev.Organizer.Name, "phone": ev.Organizer.Phone}
	if ev.Organizer.Email != "" {
		organizer["email"] = ev.Organizer.Email
	}
	doc := map[string]any{
		"id": ev.ID, "code": r.Code, "name": text(ev.NameVI, ev.NameEN), "timezone": loc.String(),
		"date": ev.Start.In(loc).Format("2006-01-02"), "doors_open": clock(ev.DoorsOpen), "start": clock(ev.Start), "end": clock(ev.End),
		"venue": text(ev.VenueVI, ev.VenueEN), "address": ev.Address, "rsvp_cutoff": ev.RSVPCutoff.In(loc).Format("2006-01-02 15:04"),
		"organizer": organizer, "agencies": "agencies.csv", "people": "delegates.csv", "agenda": agenda,
	}
	if is := ev.Issuer; is.Set() {
		inv := map[string]any{"issuing_body": is.Body, "place": is.Place, "number": is.Number,
			"signer": map[string]string{"name": is.SignerName, "title": is.SignerTitle}}
		if is.Parent != "" {
			inv["parent_body"] = is.Parent
		}
		if is.SignerAuthority != "" {
			inv["signer"].(map[string]string)["authority"] = is.SignerAuthority
		}
		if !is.Date.IsZero() {
			inv["date"] = is.Date.In(loc).Format("2006-01-02")
		}
		if len(is.Recipients) > 0 {
			inv["recipients"] = is.Recipients
		}
		doc["invitation"] = inv
	}
	raw, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, configs.EventFile), raw, 0o644); err != nil {
		return err
	}
	if r.Schedule != "" {
		if err := os.WriteFile(filepath.Join(out, "schedule.yaml"), []byte(r.Schedule), 0o644); err != nil {
			return err
		}
	}
	invited := map[string]bool{}
	agencies := map[string]bool{}
	var people [][]string
	for _, p := range dir.People() {
		if !r.Invited(p.ID) {
			continue
		}
		invited[p.ID] = true
		agencies[p.AgencyCode] = true
		var roles []string
		for _, ro := range p.Roles {
			roles = append(roles, string(ro))
		}
		people = append(people, []string{p.ID, p.FullName, p.Position, p.AgencyCode, p.Phone, p.Email, strings.Join(roles, ";")})
	}
	var ags [][]string
	for _, a := range dir.Agencies() {
		if agencies[a.Code] {
			ags = append(ags, []string{a.Code, a.NameVI, a.NameEN, a.Kind})
		}
	}
	if err := writeCSV(filepath.Join(out, "agencies.csv"), []string{"code", "name_vi", "name_en", "kind"}, ags); err != nil {
		return err
	}
	return writeCSV(filepath.Join(out, "delegates.csv"), []string{"id", "full_name", "position", "agency", "phone", "email", "roles"}, people)
}

func writeCSV(name string, header []string, rows [][]string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// exportNames is what the indicator exports call the data campaign: its
// name in the workbooks and its id in the file names (the event's name and
// no tag without a campaign section).
func exportNames(c *configs.Campaign) (title, tag string) {
	_, cp, ok, err := c.Records("")
	if err != nil || !ok {
		return c.Event.NameVI, ""
	}
	return cp.NameVI, cp.ID
}

// campaignRecords is the console's access to the data campaigns (nil when
// the database keeps none).
func campaignRecords(st storage.Store) web.CampaignRecords {
	cr, ok := st.(web.CampaignRecords)
	if !ok {
		return nil
	}
	return cr
}
