-- Love supermarkets and civility-bank counters: items, stock, vouchers and
-- the monthly redemption rows (the bbolt engine's report.go says what
-- each row counts; here each is a row of its own table).

-- Items of a shop's catalogue: ledger.Item (with its stock on hand and
-- reserved by open vouchers).
CREATE TABLE items (
    id   uuid PRIMARY KEY,
    shop uuid NOT NULL,
    doc  text NOT NULL
);
CREATE INDEX items_shop ON items (shop, id);

-- An item's picture.
CREATE TABLE item_pictures (
    item         uuid  PRIMARY KEY,
    content_type text  NOT NULL,
    data         bytea NOT NULL
);

-- Stock moves: ledger.StockMove; month is the month of the move (yyyymm).
CREATE TABLE stock_moves (
    id    uuid    PRIMARY KEY,
    item  uuid    NOT NULL,
    shop  uuid    NOT NULL,
    month integer NOT NULL,
    kind  text    NOT NULL,
    doc   text    NOT NULL
);
CREATE INDEX stock_moves_item ON stock_moves (item, id);
CREATE INDEX stock_moves_shop ON stock_moves (shop, month, id) WHERE kind <> 'redeem';

-- Vouchers: ledger.Voucher with the client keys of its redemption and its
-- reversal. expires_at is set while the voucher is open (Unix ns), for the
-- expiry sweep.
CREATE TABLE vouchers (
    id         uuid PRIMARY KEY,
    member     uuid NOT NULL,
    household  uuid,
    code       text NOT NULL UNIQUE,
    expires_at bigint,
    doc        text NOT NULL
);
CREATE INDEX vouchers_member ON vouchers (member, id);
CREATE INDEX vouchers_household ON vouchers (household, id) WHERE household IS NOT NULL;
CREATE INDEX vouchers_open ON vouchers (expires_at, id) WHERE expires_at IS NOT NULL;

-- How many of an item a member took on vouchers in a month (monthly limits).
CREATE TABLE member_item_months (
    member uuid    NOT NULL,
    item   uuid    NOT NULL,
    month  integer NOT NULL,
    count  bigint  NOT NULL,
    PRIMARY KEY (member, item, month)
);

-- Points in open vouchers, by the account they hold them from (a
-- member's or a household's).
CREATE TABLE held (
    account bytea  PRIMARY KEY,
    points  bigint NOT NULL
);

-- Redeemed vouchers by the account that paid and month, net of reversals.
CREATE TABLE redeemed_months (
    account  bytea   NOT NULL,
    month    integer NOT NULL,
    points   bigint  NOT NULL,
    vouchers bigint  NOT NULL,
    PRIMARY KEY (account, month)
);

-- A shop's month: vouchers and items redeemed net of reversals, the
-- reversals, and its last redemption or reversal (where listing a period
-- of the shop starts).
CREATE TABLE shop_months (
    shop      uuid    NOT NULL,
    month     integer NOT NULL,
    vouchers  bigint  NOT NULL,
    items     bigint  NOT NULL,
    reversals bigint  NOT NULL,
    last_seq  bigint  NOT NULL,
    PRIMARY KEY (shop, month)
);

-- A shop's items given out in a month, net of reversals.
CREATE TABLE shop_item_months (
    shop  uuid    NOT NULL,
    month integer NOT NULL,
    item  uuid    NOT NULL,
    qty   bigint  NOT NULL,
    PRIMARY KEY (shop, month, item)
);
