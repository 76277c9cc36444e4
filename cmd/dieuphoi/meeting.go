package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/dieuphoi/dieuphoi/configs"
	"github.com/dieuphoi/dieuphoi/storage/files"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage"
	"github.com/dieuphoi/dieuphoi/web"
)

// meetingStore is what the meeting (issue 15) needs of the database: the
// chat's, the console's and the scheduler's parts.
type meetingStore interface {
	bot.MeetingStore
	web.MeetingStore
	scheduler.MeetingDocs
}

// meetingParts gives the meeting its store and the key of the documents'
// personal links (kept in the database, the same for every process).
func meetingParts(ctx context.Context, st storage.Store, keys interface {
	ServerKey(ctx context.Context, name string) ([]byte, error)
}, publicURL string) (meetingStore, *bot.DocLinks, error) {
	ms, ok := st.(meetingStore)
	if !ok {
		return nil, nil, errors.New("the database cannot keep the meeting's documents, questions and votes")
	}
	key, err := keys.ServerKey(ctx, "meeting-doc-links")
	if err != nil {
		return nil, nil, err
	}
	return ms, &bot.DocLinks{Key: key, Base: publicURL}, nil
}

// laterScheduler hands the console's meeting sends to the scheduler, which
// is made after the console (it needs every channel's sender).
type laterScheduler struct{ s **scheduler.Scheduler }

// of returns the scheduler of an event (its vote buttons carry its code).
func (l laterScheduler) of(ctx context.Context, eventID string) *scheduler.Scheduler {
	if s, ok := (*l.s).ForEvent(ctx, eventID); ok {
		return s
	}
	return *l.s
}

func (l laterScheduler) SendVote(ctx context.Context, v domain.Vote, ids []string) (int, error) {
	return l.of(ctx, v.EventID).SendVote(ctx, v, ids)
}

func (l laterScheduler) NotifyQuestion(ctx context.Context, q domain.Question) (int, error) {
	return l.of(ctx, q.EventID).NotifyQuestion(ctx, q)
}

// docStore is what importDocuments needs of the database.
type docStore interface {
	MeetingDocs(ctx context.Context, eventID string, withInternal bool) ([]domain.MeetingDoc, error)
	AddMeetingDoc(ctx context.Context, d domain.MeetingDoc) (int64, error)
}

// importDocuments adds the documents the config files list to the event
// (documents.csv): each file stored by SHA-256 like an upload, and a
// document added unless the event already has that file. It runs when the
// list changed since it last ran (a hash in config_sync), so a document
// staff removed in the console is not brought back by a restart.
func importDocuments(ctx context.Context, st storage.Store, ms docStore, blobs *files.Store, eventID string, docs []configs.Document, now time.Time) error {
	if len(docs) == 0 {
		return nil
	}
	sync, ok := st.(interface {
		ConfigHash(ctx context.Context, name string) (string, error)
		SetConfigHash(ctx context.Context, name, hash string, at time.Time) error
	})
	if !ok {
		return errors.New("the database cannot keep what was imported")
	}
	type entry struct {
		Path, Title, SHA string
		Item             int
		Internal         bool
	}
	list := make([]entry, 0, len(docs))
	for _, d := range docs {
		sum := sha256.Sum256(d.Data)
		list = append(list, entry{d.Path, d.Title, hex.EncodeToString(sum[:]), d.AgendaNo, d.Internal})
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	h, name := hex.EncodeToString(sum[:]), "documents:"+eventID
	if old, err := sync.ConfigHash(ctx, name); err != nil {
		return fmt.Errorf("meeting documents: %w", err)
	} else if old == h {
		return nil
	}
	have, err := ms.MeetingDocs(ctx, eventID, true)
	if err != nil {
		return fmt.Errorf("meeting documents: %w", err)
	}
	there := map[string]bool{}
	for _, d := range have {
		there[d.SHA256] = true
	}
	for i, d := range docs {
		if there[list[i].SHA] {
			continue
		}
		sha, size, err := blobs.Put(bytes.NewReader(d.Data), configs.MaxDocumentSize)
		if err != nil {
			return fmt.Errorf("store document %s: %w", d.Path, err)
		}
		fname := files.SafeName(path.Base(d.Path), d.MIME)
		if _, err := ms.AddMeetingDoc(ctx, domain.MeetingDoc{EventID: eventID, AgendaNo: d.AgendaNo, Title: d.Title,
			FileName: fname, MIME: d.MIME, SHA256: sha, Size: size, Internal: d.Internal, CreatedAt: now}); err != nil {
			return fmt.Errorf("add document %s: %w", d.Path, err)
		}
		there[sha] = true
	}
	return sync.SetConfigHash(ctx, name, h, now)
}

// importMeetingFiles brings an imported event's plan (tasks.csv) and
// documents (documents.csv) into the database, as the start does for the
// config files' event.
func importMeetingFiles(ctx context.Context, s settings, st storage.Store, c *configs.Campaign, now time.Time) error {
	if ts, ok := st.(storage.TaskStore); ok && len(c.Tasks) > 0 {
		if err := ts.SyncPlanTasks(ctx, c.Event.ID, c.Tasks, now); err != nil {
			return fmt.Errorf("the organisers' plan: %w", err)
		}
	}
	if len(c.Documents) == 0 {
		return nil
	}
	ms, ok := st.(docStore)
	if !ok {
		return errors.New("the database cannot keep the meeting's documents")
	}
	blobs, err := files.New(filepath.Join(s.DataDir, "evidence"))
	if err != nil {
		return err
	}
	return importDocuments(ctx, st, ms, blobs, c.Event.ID, c.Documents, now)
}
