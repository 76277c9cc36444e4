package webchat

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/dieuphoi/dieuphoi/flows"
)

// Bounds of the files the bot sent, kept on disk for their chat to
// download: the newest maxSentFiles, at most maxSentBytes together.
const (
	maxSentFiles = 200
	maxSentBytes = 2 << 30
)

// sentFiles keeps the files the bot sent to web chats on disk, never in
// memory: "<id>" holds the content and "<id>.json" whose it is and its name.
// They survive a restart, so the history shown again can still download
// them.
type sentFiles struct {
	dir string
	mu  sync.Mutex
	// order lists the kept files, oldest first.
	order []sentEntry
	bytes int64
}

type sentEntry struct {
	id   string
	size int64
}

type sentMeta struct {
	Chat string `json:"chat"`
	Name string `json:"name"`
	MIME string `json:"mime"`
	Size int64  `json:"size"`
	Seq  int64  `json:"seq"` // order of keeping, for the restart
}

var sentIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func openSentFiles(dir string) (*sentFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("webchat: files directory: %w", err)
	}
	s := &sentFiles{dir: dir}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("webchat: files directory: %w", err)
	}
	type kept struct {
		sentEntry
		seq int64
	}
	var all []kept
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !sentIDRe.MatchString(id) {
			continue
		}
		m, err := s.meta(id)
		if err != nil {
			s.remove(id)
			continue
		}
		all = append(all, kept{sentEntry{id, m.Size}, m.Seq})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for _, k := range all {
		s.order = append(s.order, k.sentEntry)
		s.bytes += k.size
	}
	s.mu.Lock()
	s.prune()
	s.mu.Unlock()
	return s, nil
}

func (s *sentFiles) path(id string) string { return filepath.Join(s.dir, id) }

func (s *sentFiles) meta(id string) (sentMeta, error) {
	var m sentMeta
	raw, err := os.ReadFile(s.path(id) + ".json")
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(raw, &m)
	return m, err
}

func (s *sentFiles) remove(id string) {
	_ = os.Remove(s.path(id))
	_ = os.Remove(s.path(id) + ".json")
}

// prune forgets the oldest files beyond the bounds. The caller holds mu.
func (s *sentFiles) prune() {
	for len(s.order) > 0 && (len(s.order) > maxSentFiles || s.bytes > maxSentBytes) {
		old := s.order[0]
		s.order = s.order[1:]
		s.bytes -= old.size
		s.remove(old.id)
	}
}

// put keeps f for chat and returns its id and size. Content comes from
// f.Data, or is moved (or copied) from f.Path.
func (s *sentFiles) put(chat string, f flows.File) (string, int64, error) {
	id := randomHex(16)
	dst := s.path(id)
	var size int64
	if f.Path != "" {
		if err := os.Rename(f.Path, dst); err != nil {
			if size, err = copyFile(dst, f.Path); err != nil {
				return "", 0, err
			}
		}
		st, err := os.Stat(dst)
		if err != nil {
			return "", 0, fmt.Errorf("webchat: keep file: %w", err)
		}
		size = st.Size()
	} else {
		if err := os.WriteFile(dst, f.Data, 0o600); err != nil {
			s.remove(id)
			return "", 0, fmt.Errorf("webchat: keep file: %w", err)
		}
		size = int64(len(f.Data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, _ := json.Marshal(sentMeta{Chat: chat, Name: f.Name, MIME: f.MIME, Size: size, Seq: s.nextSeq()})
	if err := os.WriteFile(dst+".json", raw, 0o600); err != nil {
		s.remove(id)
		return "", 0, fmt.Errorf("webchat: keep file: %w", err)
	}
	s.order = append(s.order, sentEntry{id, size})
	s.bytes += size
	s.prune()
	return id, size, nil
}

// nextSeq orders files across restarts. The caller holds mu.
func (s *sentFiles) nextSeq() int64 {
	if len(s.order) == 0 {
		return 1
	}
	m, err := s.meta(s.order[len(s.order)-1].id)
	if err != nil {
		return int64(len(s.order)) + 1
	}
	return m.Seq + 1
}

// open returns the file id if it was sent to chat.
func (s *sentFiles) open(chat, id string) (*os.File, sentMeta, error) {
	if !sentIDRe.MatchString(id) {
		return nil, sentMeta{}, os.ErrNotExist
	}
	m, err := s.meta(id)
	if err != nil {
		return nil, m, err
	}
	if m.Chat != chat {
		return nil, m, os.ErrNotExist
	}
	fh, err := os.Open(s.path(id))
	return fh, m, err
}

func copyFile(dst, src string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("webchat: keep file: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("webchat: keep file: %w", err)
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
		return 0, fmt.Errorf("webchat: keep file: %w", err)
	}
	return n, nil
}
