"""Every value a remote peer controls is bounded by one of these named constants.

Each constant says why it has the value it has. Decoders check them before doing any work
that grows with the input.
"""

from __future__ import annotations

#: One network frame (u32 length prefix + canonical CBOR). Large enough for a page of 64 records
#: of at most 2 KiB plus framing, small enough that a peer can't make us buffer megabytes.
MAX_FRAME_BYTES = 64 * 1024 + 8 * 1024
#: A whole signed intent record. Keeps a page of records (64) under MAX_FRAME_BYTES.
MAX_INTENT_BYTES = 2048
#: Any other signed envelope (negotiation messages, agreements) — they carry two intent ids, terms, keys.
MAX_ENVELOPE_BYTES = 8 * 1024
#: Nesting of CBOR containers we accept; our own messages never go deeper than 6.
MAX_CBOR_DEPTH = 16
#: Peers returned by one FIND_NODE reply: k (20) is all a lookup needs.
MAX_PEERS_PER_REPLY = 20
#: Multiaddrs listed for one peer, and the length of each.
MAX_ADDRS_PER_PEER = 4
MAX_ADDR_LEN = 128
#: Records in one PUT_RECORDS request, and in one GET_RECORDS reply page.
MAX_RECORDS_PER_PUT = 64
MAX_RECORDS_PER_PAGE = 64
#: An opaque paging cursor.
MAX_CURSOR_BYTES = 64
#: Attributes of one intent, and the length of a key and of a value.
MAX_ATTRIBUTES = 16
MAX_ATTR_KEY_LEN = 32
MAX_ATTR_VALUE_LEN = 64
#: Free text the human wrote (kept so the other side can read it; never trusted for matching).
MAX_TEXT_LEN = 600
#: Category codes ("vehicles/tires").
MAX_CATEGORY_LEN = 64
#: Short reason codes and free strings in negotiation and query messages.
MAX_SHORT_STR = 64
MAX_QUERY_BYTES = 1024
#: Largest quantity and amount (minor units) anyone can put in an intent or an offer.
MAX_QUANTITY = 1_000_000
MAX_AMOUNT_MINOR = 10**12
#: Radius of interest around the intent's cell.
MAX_RADIUS_KM = 500
#: Negotiation: the hard cap on rounds any session may ask for.
MAX_ROUNDS = 32
#: An intent may not expire more than 7 days after it was created; authors republish.
MAX_INTENT_TTL_S = 7 * 24 * 3600
#: Clock skew tolerated on `created` timestamps from other peers.
MAX_CLOCK_SKEW_S = 600
