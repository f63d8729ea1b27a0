// SPDX-License-Identifier: Apache-2.0
// sFlow v5 (sflow_version_5.txt) decoder.
//
// What becomes of an sFlow datagram:
// - Each flow_sample (format 1) or expanded_flow_sample (3) becomes one flow record:
//   packets = 1 and bytes = the sampled frame's length (sampled_header frame_length,
//   else sampled_ethernet length, else sampled_ipv4/ipv6 length), both scaled by the
//   sample's sampling rate (or the configured override). The flow key comes from the
//   first packet record that yields one: sampled_header (parsed by ParsePacketHeader),
//   sampled_ipv4 or sampled_ipv6. extended_switch sets vlan (src_vlan, else dst_vlan; it
//   wins over a tag in the header), extended_router next_hop and the masks,
//   extended_gateway bgp_next_hop, src_as and dst_as (the last AS of the path, or the
//   router's own AS when the path is empty). Other records are skipped by their length.
// - obs_domain is the sample's source_id index (the data source, normally the ifIndex
//   whose sampler took the packet); the sub_agent_id only keys the sequence stream.
// - sFlow carries no flow start/end times: first = last = time the datagram arrived.
// - in_if/out_if: the interface value when its format is 0 ("single interface");
//   0 for discarded packets (format 1), several output interfaces (format 2) and the
//   "internal to the agent" value 0x3FFFFFFF.
// - counters_sample (2) / expanded_counters_sample (4): generic interface counters
//   (format 1) go to the exporter's InterfaceTable; other counter records are skipped.
//   Counter samples produce no flow records; each one decoded is counted.
// - Unknown sample types and enterprises are skipped by their length.
//
// Errors: every length is checked against its container. A sample or record that does
// not fit, or a count that cannot fit the bytes left, stops the datagram with an error;
// the records of the samples before it are kept. A packet header that ends early is not
// an error: the record keeps the fields read so far.

#pragma once

#include "decode/decode_context.h"

namespace sluice::decode {

// Decodes one sFlow v5 (sflow_version_5.txt) datagram into ctx.out.
DecodeStatus DecodeSflowV5(DecodeContext& ctx);

}  // namespace sluice::decode
