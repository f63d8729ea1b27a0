// SPDX-License-Identifier: Apache-2.0
// nfdump's names for statistics (-s), aggregations (-A, -a) and orders (-O, -s .../ORDER),
// mapped onto the field catalogue (flow/field.h). Every catalogue field may also be named
// by its own name (`-s exporter`, `-A src_country`).

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "query/query_spec.h"

namespace sluice::query {

// "flows", "packets", "bytes", "pps", "bps", "bpp", "tstart", "tend".
Result<OrderBy> ParseOrder(std::string_view text);
std::string_view OrderName(OrderBy order);

// One -s argument: STAT[:p][/ORDER...]. Several orders ("ip/flows/bytes") give one
// StatSpec per order. ":p" splits the statistic by protocol (the key gets `proto` in
// front). Prefix statistics take their lengths as numbers: "srcnet/24", "srcnet/24/56"
// (IPv4 then IPv6 bits; default /24 and /64). Unknown or unsupported names are
// kInvalidArgument with the reason.
Result<std::vector<StatSpec>> ParseStat(std::string_view text);

// One -A argument: a comma-separated list of nfdump element names (proto, srcip, dstip,
// srcip4/24, srcip6/64, dstip4/N, dstip6/N, srcport, dstport, srcas, dstas, inif, outif,
// srcmask, dstmask, srcvlan, next, bgpnext, insrcmac, indstmac, srcnet, dstnet, ...) or
// catalogue names. srcnet/dstnet set KeyField::flow_mask; the out (post) MAC names are
// refused (src_mac/dst_mac hold the in MACs, an out one only as a fallback).
Result<std::vector<KeyField>> ParseAggregation(std::string_view text);

// -a: proto, srcip, dstip, srcport, dstport.
std::vector<KeyField> FiveTupleKey();

// The column title nfdump prints for a statistic ("Src IP Addr", "Dst Port"); the
// catalogue name for Sluice's own fields.
std::string StatTitle(const StatSpec& spec);

// Prefix text for an address key field cut short ("/24"); empty when the key keeps the
// whole address of the given family.
std::string PrefixSuffix(const KeyField& key, bool is_v4);

}  // namespace sluice::query
