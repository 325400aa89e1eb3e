// XML helpers over pugixml: S3 responses carry S3's namespace on the root element and an
// XML declaration; request bodies must parse and have the expected root.
#include <sstream>
#include <string>

#include "api/s3/s3_internal.h"

namespace mercato::api::s3 {

pugi::xml_node NewXmlRoot(pugi::xml_document& doc, const char* root_name) {
  pugi::xml_node root = doc.append_child(root_name);
  root.append_attribute("xmlns") = std::string(kS3Namespace).c_str();
  return root;
}

pugi::xml_node AddText(pugi::xml_node parent, const char* name, std::string_view text) {
  pugi::xml_node n = parent.append_child(name);
  n.append_child(pugi::node_pcdata).set_value(std::string(text).c_str());
  return n;
}

http::Response XmlResponse(const pugi::xml_document& doc, int status) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  http::Response r;
  r.status = status;
  r.body = out.str();
  r.SetHeader("Content-Type", "application/xml");
  return r;
}

absl::Status ParseXml(std::string_view body, const char* root_name, pugi::xml_document& doc) {
  pugi::xml_parse_result result =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_fragment);
  if (!result) {
    return S3Error("MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  // Exactly one element and nothing but markup around it.
  int elements = 0;
  for (pugi::xml_node n : doc.children()) {
    if (n.type() == pugi::node_element) ++elements;
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) elements = 2;
  }
  pugi::xml_node root = doc.document_element();
  if (elements != 1 || std::string_view(root.name()) != root_name) {
    return S3Error("MalformedXML",
                   std::string("The XML you provided was not well-formed or did not validate "
                               "against our published schema: expected <") +
                       root_name + ">");
  }
  return absl::OkStatus();
}

}  // namespace mercato::api::s3
