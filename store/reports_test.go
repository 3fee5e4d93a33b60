package store_test

import (
	"context"
	"testing"

	"cartera/store"
)

// TestStore_RunReport groups and measures records, custom fields
// included, under the viewer's scope.
func TestStore_RunReport(t *testing.T) {
	s := mustOpenStore(t)
	admin := mustSetup(t, s)
	ctx := context.Background()
	sales := mustUser(t, s, admin, "sales@example.com", "salesperson")
	if _, err := s.CreateCustomField(ctx, admin, store.EntOpportunities, store.CustomFieldInput{Key: "segment", Kind: store.KSelect, Labels: store.Labels{"en": "Segment"},
		Options: []store.Option{{Key: "smb", Labels: store.Labels{"en": "SMB"}}, {Key: "public", Labels: store.Labels{"en": "Public"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCustomField(ctx, admin, store.EntOpportunities, store.CustomFieldInput{Key: "margin", Kind: store.KMoney, Labels: store.Labels{"en": "Margin"}}); err != nil {
		t.Fatal(err)
	}
	mk := func(a *store.Actor, name, stage string, amount float64, segment string, margin float64) {
		t.Helper()
		if _, err := s.CreateRecord(ctx, a, store.EntOpportunities, store.Input{Values: map[string]any{"name": name, "stage": stage, "amount": amount},
			Custom: map[string]any{"segment": segment, "margin": margin}}); err != nil {
			t.Fatal(err)
		}
	}
	mk(admin, "A", "proposal", 1000, "smb", 100)
	mk(admin, "B", "proposal", 3000, "public", 300)
	mk(sales, "C", "won", 500, "smb", 50)
	t.Run("by stage", func(t *testing.T) {
		res, err := s.RunReport(ctx, admin, store.ReportSpec{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "stage"}}, Measures: []store.Measure{{Op: "count"}, {Op: "sum", Field: "amount"}}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]float64{}
		for _, r := range res.Rows {
			got[r[0].(string)] = [2]float64{toF(r[1]), toF(r[2])}
		}
		if got["proposal"] != [2]float64{2, 4000} || got["won"] != [2]float64{1, 500} {
			t.Errorf("rows %v", res.Rows)
		}
	})
	t.Run("by a custom select, summing a custom amount", func(t *testing.T) {
		res, err := s.RunReport(ctx, admin, store.ReportSpec{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "custom.segment"}}, Measures: []store.Measure{{Op: "sum", Field: "custom.margin"}}})
		if err != nil || len(res.Rows) != 2 || res.Rows[0][0] != "public" || toF(res.Rows[0][1]) != 300 || toF(res.Rows[1][1]) != 150 {
			t.Errorf("%v %v", err, res)
		}
	})
	t.Run("by month of creation and by owner", func(t *testing.T) {
		res, err := s.RunReport(ctx, admin, store.ReportSpec{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "created_at", Bucket: "month"}, {Field: "owner"}}})
		if err != nil || len(res.Rows) != 2 || len(res.Rows[0][0].(string)) != 7 {
			t.Errorf("%v %v", err, res)
		}
	})
	t.Run("the viewer's scope applies", func(t *testing.T) {
		res, err := s.RunReport(ctx, sales, store.ReportSpec{Entity: store.EntOpportunities, Measures: []store.Measure{{Op: "sum", Field: "amount"}}})
		if err != nil || len(res.Rows) != 1 || toF(res.Rows[0][0]) != 500 {
			t.Errorf("salesperson's total: %v %v", err, res)
		}
	})
	t.Run("bad specs refused", func(t *testing.T) {
		for _, spec := range []store.ReportSpec{
			{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "password_hash"}}},
			{Entity: store.EntOpportunities, Measures: []store.Measure{{Op: "sum", Field: "name"}}},
			{Entity: store.EntOpportunities, Measures: []store.Measure{{Op: "drop", Field: "amount"}}},
			{Entity: store.EntOpportunities, GroupBy: []store.GroupBy{{Field: "created_at", Bucket: "decade"}}},
		} {
			if _, err := s.RunReport(ctx, admin, spec); store.ErrorCode(err) != store.CodeInvalid {
				t.Errorf("%+v: %v", spec, err)
			}
		}
	})
}

func toF(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return -1
}
