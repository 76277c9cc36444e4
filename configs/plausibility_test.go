package configs

import (
	"strings"
	"testing"
)

func TestPlausibilityColumns(t *testing.T) {
	head := "code,name_vi,value_type,agency,change_limit,soft_min,soft_max,numerator,denominator\n"
	good := head + "A,Chi NC&PT,decimal,STC,,,,,\n" +
		"B,GRDP,decimal,STC,30%,1000,,,\n" +
		"C,Tỷ lệ chi trên GRDP,percent,STC,80,0,\"2,5\",a,B\n"
	inds, err := LoadIndicators("indicators.csv", []byte(good), map[string]bool{"STC": true})
	if err != nil {
		t.Fatal(err)
	}
	if inds[0].ChangeLimit != 0 || inds[0].SoftMin != nil || inds[0].Numerator != "" {
		t.Errorf("blank columns: %+v", inds[0])
	}
	if inds[1].ChangeLimit != 0.3 || inds[1].SoftMin == nil || *inds[1].SoftMin != 1000 || inds[1].SoftMax != nil {
		t.Errorf("B: limit %v min %v", inds[1].ChangeLimit, inds[1].SoftMin)
	}
	if c := inds[2]; c.ChangeLimit != 0.8 || *c.SoftMax != 2.5 || c.Numerator != "A" || c.Denominator != "B" {
		t.Errorf("C: %+v", c)
	}
	for _, tc := range []struct{ label, row, want string }{
		{"negative limit", "X,x,decimal,STC,-5,,,,", "change_limit"},
		{"soft range reversed", "X,x,decimal,STC,,5,1,,", "soft_max"},
		{"soft checks on text", "X,x,text,STC,,1,,,", "only numeric"},
		{"numerator alone", "X,x,percent,STC,,,,A,", "go together"},
		{"unknown code", "X,x,percent,STC,,,,A,Z", "«Z» is not an indicator"},
		{"own ratio", "X,x,percent,STC,,,,X,A", "cannot be its own numerator"},
	} {
		_, err := LoadIndicators("indicators.csv", []byte(head+"A,a,decimal,STC,,,,,\n"+tc.row+"\n"), map[string]bool{"STC": true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.label, err, tc.want)
		}
	}
}
