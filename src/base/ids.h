// Identifiers: 12-digit account ids, access key ids and secrets, bearer tokens, opaque
// resource ids, SageMaker-style ARNs, and the SageMaker resource-name rule. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace mercato {

std::string NewAccountId();                  // 12 decimal digits, first one non-zero
std::string NewAccessKeyId();                // "AKIA" + 16 upper-case base32 characters
std::string NewSecretAccessKey();            // 40 characters of base64url alphabet
std::string NewToken();                      // "mct_" + 48 hex characters
std::string NewId(std::string_view prefix);  // prefix + 24 hex characters

// arn:aws:{service}:{region}:{account}:{type}/{name}
std::string MakeArn(std::string_view service, std::string_view region, std::string_view account,
                    std::string_view type, std::string_view name);

// SageMaker's name rule: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$
bool IsValidResourceName(std::string_view name);

}  // namespace mercato
