-- +goose Up
-- Product catalogue and quotes (issue 12). Money is in integer cents,
-- tax rates and discounts in basis points (2100 = 21 %), quantities in
-- thousandths (1500 = 1.5), so no amount is ever a float.

-- The tax rates a product or quote line may use; the firm edits the list.
CREATE TABLE tax_rates (
    rate_bp  INTEGER PRIMARY KEY CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    name     TEXT    NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tax_rates (rate_bp, name, position) VALUES
    (2100, 'IVA 21 %', 1), (1000, 'IVA 10 %', 2), (400, 'IVA 4 %', 3), (0, 'IVA 0 %', 4);

CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    code             TEXT    NOT NULL,
    code_key         TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    unit_price_cents INTEGER NOT NULL DEFAULT 0,
    tax_rate_bp      INTEGER NOT NULL DEFAULT 2100,
    unit             TEXT    NOT NULL DEFAULT '',
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX products_name ON products(active, name COLLATE NOCASE);

-- One row: the quote number prefix, the default validity and terms, and
-- the key that signs the public download links of sent quotes.
CREATE TABLE quote_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    prefix        TEXT    NOT NULL DEFAULT 'P',
    validity_days INTEGER NOT NULL DEFAULT 30,
    terms         TEXT    NOT NULL DEFAULT '',
    link_key      BLOB    NOT NULL
);
INSERT INTO quote_settings (id, prefix, validity_days, terms, link_key) VALUES (1, 'P', 30, '', randomblob(32));

-- The last number given each year. It only grows: a deleted quote's number
-- is never given again, and two quotes created at once get two numbers
-- because the counter is bumped inside the creating write transaction.
CREATE TABLE quote_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE quotes (
    id             INTEGER PRIMARY KEY,
    number         TEXT    NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    opportunity_id INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    account_id     INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    contact_id     INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    issue_date     TEXT    NOT NULL,
    valid_until    TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'draft',
    currency       TEXT    NOT NULL DEFAULT 'EUR',
    notes          TEXT    NOT NULL DEFAULT '',
    terms          TEXT    NOT NULL DEFAULT '',
    subtotal_cents INTEGER NOT NULL DEFAULT 0,
    tax_cents      INTEGER NOT NULL DEFAULT 0,
    total_cents    INTEGER NOT NULL DEFAULT 0,
    sent_at        INTEGER NOT NULL DEFAULT 0,
    decided_at     INTEGER NOT NULL DEFAULT 0,
    created_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (year, seq)
);
CREATE INDEX quotes_opportunity ON quotes(opportunity_id);
CREATE INDEX quotes_status ON quotes(status, valid_until);

CREATE TABLE quote_lines (
    id               INTEGER PRIMARY KEY,
    quote_id         INTEGER NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    product_id       INTEGER REFERENCES products(id) ON DELETE SET NULL,
    description      TEXT    NOT NULL,
    unit             TEXT    NOT NULL DEFAULT '',
    quantity_milli   INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    discount_bp      INTEGER NOT NULL DEFAULT 0,
    tax_rate_bp      INTEGER NOT NULL,
    net_cents        INTEGER NOT NULL,
    tax_cents        INTEGER NOT NULL
);
CREATE INDEX quote_lines_quote ON quote_lines(quote_id, position);

-- The opportunity mirrors its quotes' state (read-only fields), so the
-- workflow rules on opportunities can follow quotes up: "quote sent and
-- not accepted after 7 days".
ALTER TABLE opportunities ADD COLUMN quote_status TEXT NOT NULL DEFAULT '';
ALTER TABLE opportunities ADD COLUMN quote_sent_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE opportunities DROP COLUMN quote_sent_at;
ALTER TABLE opportunities DROP COLUMN quote_status;
DROP TABLE quote_lines;
DROP TABLE quotes;
DROP TABLE quote_counters;
DROP TABLE quote_settings;
DROP TABLE products;
DROP TABLE tax_rates;
