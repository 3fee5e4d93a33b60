package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cartera/importer"
	"cartera/store"
)

// BenchmarkRun_Contacts imports a contacts CSV with automatic mapping and
// e-mail duplicate matching; rows/s is the figure issue 6 targets.
func BenchmarkRun_Contacts(b *testing.B) {
	ctx := context.Background()
	st := mustStoreB(b)
	const rows = 5000
	if _, err := st.Setup(ctx, store.SetupInput{Company: store.Company{Name: "Empresa ABC", Timezone: "Europe/Madrid", Language: "ca", Currency: "EUR"},
		AdminName: "Anna", AdminEmail: "anna@example.com", AdminPassword: "contrasenya-segura"}); err != nil {
		b.Fatal(err)
	}
	u, _ := st.FindUserByEmail(ctx, store.SystemActor(), "anna@example.com")
	admin, err := st.ActorFor(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sb strings.Builder
		sb.WriteString(strings.SplitN(seed000, "\n", 2)[0] + "\n")
		for r := 0; r < rows; r++ {
			fmt.Fprintf(&sb, "Nom%d,Cognom %d,c%d.%d@example.com,6%08d,1980-01-%02d,Telèfon\n", r, r, i, r, r, r%28+1)
		}
		src, err := importer.Open(strings.NewReader(sb.String()), "b.csv", importer.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := importer.Run(ctx, st, admin, catalog, src, importer.Plan{Entity: store.EntContacts, MatchOn: "email"}, nil)
		if err != nil || sum.Created != rows {
			b.Fatalf("%v %+v", err, sum.Progress)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
