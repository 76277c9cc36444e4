package configs

import (
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
)

func TestExampleTasks(t *testing.T) {
	c, err := Load(Example())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tasks) < 5 {
		t.Fatalf("example plan has %d tasks", len(c.Tasks))
	}
	units := map[string]bool{}
	for _, task := range c.Tasks {
		units[task.Unit] = true
		if task.OwnerID == "" || task.Deadline.IsZero() || task.Status != domain.TaskTodo || task.EventID != c.Event.ID {
			t.Errorf("task %+v", task)
		}
	}
	for _, u := range []string{"Văn phòng Sở", "Phòng Công nghệ và Đổi mới sáng tạo", "Trung tâm Thông tin, thống kê, ứng dụng KH&CN"} {
		if !units[u] {
			t.Errorf("no task for %s (section III of the plan)", u)
		}
	}
}

func TestLoadTasksProblems(t *testing.T) {
	people := map[string]domain.Person{"DB090": {ID: "DB090", AgencyCode: "SKHCN"}}
	head := "id,task,unit,owner,deadline,status\n"
	cases := []struct {
		name, rows string
		want       []string
	}{
		{"ok", "A1,Việc,Văn phòng Sở,db090,31/07/2024,đang làm\n", nil},
		{"missing fields", ",,,,,x\n", []string{"tasks.csv:2: id: is required", "tasks.csv:2: task: is required", "tasks.csv:2: unit: is required", "tasks.csv:2: owner: is required", "tasks.csv:2: deadline: is required", "tasks.csv:2: status: «x» is not a status"}},
		{"unknown owner", "A1,Việc,VP,DB999,31/07/2024,\n", []string{"tasks.csv:2: owner: «DB999» is not in the people list"}},
		{"bad date and status", "A1,Việc,VP,DB090,32/13/2024,xyz\n", []string{"tasks.csv:2: deadline: «32/13/2024» is not a date", "tasks.csv:2: status: «xyz» is not a status"}},
		{"duplicate id", "A1,Việc,VP,DB090,31/07/2024,\na1,Việc khác,VP,DB090,31/07/2024,\n", []string{"tasks.csv:3: id: «a1» is already used on row 2"}},
		{"bad id", "A 1,Việc,VP,DB090,31/07/2024,\n", []string{"tasks.csv:2: id: «A 1» must be a short code"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tasks, err := LoadTasks("tasks.csv", []byte(head+tc.rows), "ev", people, time.UTC)
			if tc.want == nil {
				if err != nil || len(tasks) != 1 || tasks[0].OwnerID != "DB090" || tasks[0].Status != domain.TaskDoing || tasks[0].AgencyCode != "SKHCN" {
					t.Fatalf("tasks %+v, err %v", tasks, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", tasks)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
