package configs

import "testing"

// FuzzLoadPeople feeds arbitrary CSV files to the people loader: it never
// panics, and either returns people that passed validation or a
// *ValidationError naming the file.
func FuzzLoadPeople(f *testing.F) {
	f.Add([]byte("id,full_name,position,agency,phone,roles\nDB001,Nguyễn Văn An,Giám đốc,STC,0912345678,delegate\n"))
	f.Add([]byte("\xef\xbb\xbfid;full_name;agency;phone\r\nDB1;A B;STC;+84 912 345 678\r\n"))
	f.Add([]byte("id,full_name,agency,phone\n\"unterminated,x,STC,0912\n"))
	f.Add([]byte("=cmd|' /C calc'!A0,x\n"))
	f.Add([]byte{})
	agencies := map[string]bool{"STC": true, "SKHCN": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		people, err := LoadPeople("people.csv", data, agencies)
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Problems) == 0 {
				t.Fatalf("error is not a report of problems: %T %v", err, err)
			}
			if people != nil {
				t.Fatal("people returned with an error: a bad file must change nothing")
			}
			return
		}
		for _, p := range people {
			if p.ID == "" || p.FullName == "" || !agencies[p.AgencyCode] {
				t.Fatalf("accepted an invalid person: %+v", p)
			}
		}
	})
}
