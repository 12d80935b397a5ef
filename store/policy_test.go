package store

import "testing"

func TestPoliciesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.Policies(); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	if err := db.PutPolicy("show", []byte(`{"caps":{"max_ratio":0.5}}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutPolicy("show", []byte(`{"caps":{"max_ratio":0.9}}`)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Policies()
	if err != nil || string(got["show"]) != `{"caps":{"max_ratio":0.9}}` || len(got) != 1 {
		t.Fatalf("after reopen: %q %v", got, err)
	}
}
