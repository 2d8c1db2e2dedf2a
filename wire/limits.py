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
#: Other taxonomy groups an intent unsure of its category is also filed under (``Intent.extra_groups``): at
#: most this many, so one publish costs at most 1 + MAX_EXTRA_GROUPS DHT keys (issue 11 allows 3).
MAX_EXTRA_GROUPS = 2
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
#: Every DHT record (intent, profile, rating) expires at most this long after it was created.
MAX_RECORD_TTL_S = MAX_INTENT_TTL_S

# ------------------------------------------------------------------- agent profiles, ratings, evidence
#: A whole signed agent profile record: a handle, a few languages, categories and protocol ids. Small so
#: that looking up a counterpart costs one short reply; a profile over it is refused, never truncated.
MAX_PROFILE_BYTES = 1024
#: The display handle ``@owner/agent`` (owner and agent name of at most 31 characters each).
MAX_HANDLE_LEN = 64
#: Languages, categories and protocol ids one profile may list, and the length of a protocol id.
MAX_PROFILE_LANGS = 8
MAX_PROFILE_CATEGORIES = 16
MAX_PROFILE_PROTOCOLS = 12
MAX_PROTOCOL_ID_LEN = 48
#: A whole signed rating record: the rating, its comment, and the co-signed agreement it names (the
#: agreement and its two signatures are ~400 bytes). Below MAX_INTENT_BYTES, so PUT/GET pages hold it.
MAX_RATING_BYTES = 1536
#: The short comment of a rating.
MAX_RATING_COMMENT = 280
#: Ratings one TRUST_VERIFICATION reply carries, and the size of that reply's envelope (under a frame).
MAX_EVIDENCE_RATINGS = 32
MAX_EVIDENCE_BYTES = MAX_EVIDENCE_RATINGS * MAX_RATING_BYTES + 1024
