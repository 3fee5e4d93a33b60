package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// surveyMAC signs a case id for its survey links with the installation's
// service secret, so nobody can score a case whose e-mail they never got.
func surveyMAC(secret []byte, caseID int64) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("survey:" + strconv.FormatInt(caseID, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

// surveyToken is the signed token of a case's survey links.
func surveyToken(secret []byte, caseID int64) string {
	return strconv.FormatInt(caseID, 10) + "." + surveyMAC(secret, caseID)
}

// SendCaseSurveys queues the satisfaction survey of every case resolved
// since the survey was turned on and not surveyed yet: one e-mail to the
// case's contact, in the company's language, with five links
// (baseURL/survey/TOKEN/1…5). The scheduler calls it every pass; a case is
// surveyed once (the outbox key and survey_sent_at make it idempotent). It
// does nothing without a base URL, since the links would lead nowhere.
func (s *Store) SendCaseSurveys(ctx context.Context, now time.Time, baseURL string) (int, error) {
	baseURL = strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if baseURL == "" {
		return 0, nil
	}
	sent := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		sent = 0
		ss, err := loadService(ctx, tx)
		if err != nil || !ss.Survey {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.id, c.subject, COALESCE(p.email, ''), COALESCE(TRIM(p.first_name || ' ' || p.last_name), '')
			FROM cases c LEFT JOIN contacts p ON p.id = c.contact_id AND p.deleted_at = 0
			WHERE c.deleted_at = 0 AND c.survey_sent_at = 0 AND c.resolved_at <> 0 AND c.resolved_at >= ? AND c.resolved_at <= ?
			ORDER BY c.resolved_at, c.id LIMIT 200`, ss.surveySince, ms(now))
		if err != nil {
			return err
		}
		type todo struct {
			id                   int64
			subject, email, name string
		}
		var list []todo
		for rows.Next() {
			var t todo
			if err := rows.Scan(&t.id, &t.subject, &t.email, &t.name); err != nil {
				rows.Close()
				return err
			}
			list = append(list, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		w := s.companyWords(ctx, tx)
		for _, t := range list {
			if t.email != "" {
				tok := surveyToken(ss.secret, t.id)
				var b strings.Builder
				b.WriteString(w.T("service.survey.body", "Ref", "C-"+strconv.FormatInt(t.id, 10), "Subject", t.subject))
				b.WriteString("\n\n")
				for n := 1; n <= 5; n++ {
					b.WriteString(w.T("service.survey.score_"+strconv.Itoa(n)) + ": " + baseURL + "/survey/" + tok + "/" + strconv.Itoa(n) + "\n")
				}
				b.WriteString("\n-- \n" + w.T("service.email.footer") + "\n")
				if _, _, err := s.enqueueEmail(ctx, tx, SystemActor(), OutgoingEmail{
					Key: "case-survey:" + strconv.FormatInt(t.id, 10), To: t.email, ToName: t.name, ReplyTo: ss.SupportAddress,
					Subject: caseSubject(t.id, w.T("service.survey.subject")), Text: b.String(), Entity: EntCases, RecordID: t.id,
				}); err != nil {
					return err
				}
				sent++
			}
			// A case without an address is marked too, so it is not
			// looked at again on every pass.
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET survey_sent_at = ? WHERE id = ?`, ms(now), t.id); err != nil {
				return err
			}
		}
		return nil
	})
	return sent, err
}

// SurveyAnswer is what the public survey page shows after a click.
type SurveyAnswer struct {
	CaseID  int64
	Subject string
	Score   int
	// Token is the case's survey token, for the links that change the
	// score.
	Token string
}

// RecordSurveyScore stores the 1-5 score a customer clicked in a survey
// e-mail. It needs no login: the signed token is the proof. Later clicks
// change the score until the case is closed; after that, and for a token
// that does not verify, nothing changes (closed: service.error.survey_closed,
// bad token: not_found).
func (s *Store) RecordSurveyScore(ctx context.Context, token string, score int) (*SurveyAnswer, error) {
	idText, mac, ok := strings.Cut(token, ".")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 || len(token) > 100 {
		return nil, errNotFound()
	}
	if score < 1 || score > 5 {
		return nil, errInvalid(map[string]string{"score": "service.error.score"})
	}
	ans := &SurveyAnswer{CaseID: id, Score: score, Token: token}
	err = s.write(ctx, func(tx *sql.Tx) error {
		ss, err := loadService(ctx, tx)
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(mac), []byte(surveyMAC(ss.secret, id))) {
			return errNotFound()
		}
		var closed, sentAt int64
		var old int
		err = tx.QueryRowContext(ctx, `SELECT subject, closed_at, survey_sent_at, satisfaction FROM cases WHERE id = ? AND deleted_at = 0`, id).
			Scan(&ans.Subject, &closed, &sentAt, &old)
		if isNoRows(err) || (err == nil && sentAt == 0) {
			return errNotFound()
		} else if err != nil {
			return err
		}
		if closed != 0 {
			ans.Score = old
			return &Error{Code: CodeConflict, Key: "service.error.survey_closed"}
		}
		if old == score {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET satisfaction = ? WHERE id = ?`, score, id); err != nil {
			return err
		}
		return s.history(ctx, tx, SystemActor(), EntCases, id, "satisfaction", itoa64(int64(old)), strconv.Itoa(score), s.now())
	})
	if err != nil {
		if AsError(err).Code == CodeConflict {
			return ans, err
		}
		return nil, err
	}
	return ans, nil
}

// AgentSatisfaction is one agent's line of the satisfaction report.
type AgentSatisfaction struct {
	UserID  int64
	Name    string
	Answers int
	Average float64
}

// SatisfactionByAgent averages the survey scores of the cases each agent
// is assigned, over the cases the actor may view.
func (s *Store) SatisfactionByAgent(ctx context.Context, a *Actor) ([]AgentSatisfaction, error) {
	if !a.Can(EntCases, ActView) {
		return nil, errForbidden()
	}
	cond, args := a.scopeSQL(EntCases, ActView, "t.owner_id")
	var out []AgentSatisfaction
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.owner_id, COALESCE(u.name, ''), count(*), avg(t.satisfaction)
			FROM cases t LEFT JOIN users u ON u.id = t.owner_id
			WHERE t.deleted_at = 0 AND t.satisfaction > 0 AND `+cond+`
			GROUP BY t.owner_id ORDER BY avg(t.satisfaction) DESC, u.name`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r AgentSatisfaction
			if err := rows.Scan(&r.UserID, &r.Name, &r.Answers, &r.Average); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
