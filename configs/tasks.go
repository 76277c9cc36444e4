package configs

import (
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dieuphoi/dieuphoi/domain"
)

// TasksFile is the organisers' plan, beside event.yaml; it is optional.
const TasksFile = "tasks.csv"

var taskColumns = []column{
	{"id", true, []string{"ma", "ma_cong_viec", "stt"}},
	{"task", true, []string{"title", "cong_viec", "noi_dung", "nhiem_vu"}},
	{"unit", true, []string{"don_vi", "don_vi_chu_tri", "responsible_unit"}},
	{"owner", true, []string{"person", "nguoi_phu_trach", "phu_trach", "can_bo"}},
	{"deadline", true, []string{"due", "han", "thoi_han", "han_chot"}},
	{"status", false, []string{"trang_thai"}},
	{"note", false, []string{"notes", "ghi_chu"}},
}

// Task text limits: a title is one line of a chat message.
const (
	MaxTaskTitle = 300
	MaxTaskNote  = 1000
)

// ParseTaskStatus reads a status as written in the plan: the code (todo,
// doing, done, blocked) or its Vietnamese label; "" is todo.
func ParseTaskStatus(s string) (domain.TaskStatus, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "todo", "chưa làm", "chua lam", "chưa bắt đầu":
		return domain.TaskTodo, true
	case "doing", "đang làm", "dang lam":
		return domain.TaskDoing, true
	case "done", "xong", "đã xong", "da xong", "hoàn thành":
		return domain.TaskDone, true
	case "blocked", "vướng", "vuong", "vướng mắc", "bị vướng":
		return domain.TaskBlocked, true
	}
	return "", false
}

// LoadTasks parses the organisers' plan: columns id, task, unit, owner (a
// person id from the people list) and deadline required; status and note
// optional. Every problem names the file, row and field.
func LoadTasks(name string, data []byte, eventID string, people map[string]domain.Person, loc *time.Location) ([]domain.Task, error) {
	if loc == nil {
		loc = time.UTC
	}
	var probs problems
	t, ok := readTable(name, data, taskColumns, &probs)
	if !ok {
		return nil, probs.err()
	}
	ids := map[string]string{}
	for id := range people {
		ids[strings.ToUpper(id)] = id
	}
	seen := map[string]int{}
	var out []domain.Task
	for _, r := range t.rows {
		bad := func(field, format string, args ...any) { probs.addf(name, r.n, field, format, args...) }
		task := domain.Task{EventID: eventID, Kind: domain.TaskKindPlan, ID: r.get(t, "id"), Title: r.get(t, "task"),
			Unit: r.get(t, "unit"), Note: r.get(t, "note")}
		switch {
		case task.ID == "":
			bad("id", "is required")
		case utf8.RuneCountInString(task.ID) > 40 || strings.ContainsAny(task.ID, " /|\n\t"):
			bad("id", "%s must be a short code without spaces, '/' or '|', e.g. VP-01", quote(task.ID))
		default:
			if prev := seen[strings.ToUpper(task.ID)]; prev != 0 {
				bad("id", "%s is already used on row %d", quote(task.ID), prev)
			}
			seen[strings.ToUpper(task.ID)] = r.n
		}
		if task.Title == "" {
			bad("task", "is required")
		} else if utf8.RuneCountInString(task.Title) > MaxTaskTitle {
			bad("task", "is longer than %d characters", MaxTaskTitle)
		}
		if task.Unit == "" {
			bad("unit", "is required: the unit of the Sở in charge, e.g. Văn phòng Sở")
		}
		if utf8.RuneCountInString(task.Note) > MaxTaskNote {
			bad("note", "is longer than %d characters", MaxTaskNote)
		}
		owner := r.get(t, "owner")
		if owner == "" {
			bad("owner", "is required: the id of the person responsible, from the people list")
		} else if people != nil {
			if id, ok := ids[strings.ToUpper(owner)]; ok {
				task.OwnerID = id
				task.AgencyCode = people[id].AgencyCode
			} else {
				bad("owner", "%s is not in the people list", quote(owner))
			}
		} else {
			task.OwnerID = owner
		}
		if d := r.get(t, "deadline"); d == "" {
			bad("deadline", "is required")
		} else if when, ok := parseDeadline(d, loc); !ok {
			bad("deadline", "%s is not a date; write dd/mm/yyyy or dd/mm/yyyy hh:mm, e.g. 31/07/2024 17:00", quote(d))
		} else {
			task.Deadline = when
		}
		st, ok := ParseTaskStatus(r.get(t, "status"))
		if !ok {
			bad("status", "%s is not a status; write todo, doing, done or blocked", quote(r.get(t, "status")))
		}
		task.Status = st
		out = append(out, task)
	}
	if len(out) == 0 {
		probs.add(name, 0, "", "has no tasks")
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// loadTasksFile reads tasks.csv beside event.yaml when there is one.
func loadTasksFile(fsys fs.FS, eventID string, people map[string]domain.Person, loc *time.Location, probs *problems) []domain.Task {
	if _, err := fs.Stat(fsys, TasksFile); err != nil {
		return nil
	}
	b, ok := readFile(fsys, TasksFile, probs)
	if !ok {
		return nil
	}
	tasks, err := LoadTasks(TasksFile, b, eventID, people, loc)
	probs.addErr(err)
	return tasks
}
