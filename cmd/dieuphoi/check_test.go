package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check and serve refuse alike a phone shared by two people and names in
// schedule.yaml that the configuration does not have, naming file, line
// and field.
func TestCheckRefusesSharedPhoneAndUnknownNames(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir, func(name, s string) string {
		switch name {
		case "delegates.csv": // DB002 gets DB001's phone
			s = strings.Replace(s, "0705285204", "0338039658", 1)
		case "schedule.yaml":
			s = strings.Replace(s, "4: [DB002]", "4: [DB999]", 1)
			s = strings.Replace(s, "speakers:\n", "speakers:\n  42: [DB001]\n", 1)
			s = strings.Replace(s, "agency_leaders:\n", "agency_leaders:\n  XYZ: DB087\n", 1)
		}
		return s
	})
	env := baseEnv(t)
	env["DIEUPHOI_CONFIG_DIR"] = dir

	// The shared phone first (the people list), then schedule.yaml.
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"dieuphoi", "check"}, envFunc(env), &out, &errOut)
	if err == nil {
		t.Fatalf("check accepted a shared phone:\n%s", out.String())
	}
	for _, want := range []string{"delegates.csv:3", "phone", "is also the phone of DB001 on row 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check: %q does not say %q", err, want)
		}
	}
	if err := run(context.Background(), []string{"dieuphoi", "serve"}, envFunc(env), &out, &errOut); err == nil || !strings.Contains(err.Error(), "is also the phone of DB001") {
		t.Errorf("serve with a shared phone: %v", err)
	}

	data, _ := os.ReadFile(filepath.Join("..", "..", "configs", "example", "delegates.csv"))
	if err := os.WriteFile(filepath.Join(dir, "delegates.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"dieuphoi", "check"}, envFunc(env), &out, &errOut)
	if err == nil {
		t.Fatal("check accepted unknown names in schedule.yaml")
	}
	for _, want := range []string{
		"schedule.yaml:", "speakers.4: «DB999» is not in the people list",
		"speakers.42: the agenda in event.yaml has no item 42",
		"agency_leaders.XYZ: «XYZ» is not in the agency list",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check: %q does not say %q", err, want)
		}
	}
	if err := run(context.Background(), []string{"dieuphoi", "serve"}, envFunc(env), &out, &errOut); err == nil || !strings.Contains(err.Error(), "DB999") {
		t.Errorf("serve with unknown names in schedule.yaml: %v", err)
	}
}
