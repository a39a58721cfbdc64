// The fused fusion types: "early" (single stream) and "cross_attention" (ALBEF's fusion encoder).
#pragma once

namespace mmtrain {

// Registers "early" and "cross_attention" in fusion_registry(). Idempotent.
void register_zoo_fusion();

}  // namespace mmtrain
