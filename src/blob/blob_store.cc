#include "blob/blob_store.h"

#include <utility>

#include "base/status.h"

namespace mercato {

absl::StatusOr<BlobInfo> PutBlob(BlobStore& store, std::string_view data) {
  ASSIGN_OR_RETURN(BlobWriterPtr writer, store.NewWriter());
  RETURN_IF_ERROR(writer->Write(data));
  return writer->Commit();
}

absl::StatusOr<std::string> GetBlob(BlobStore& store, std::string_view id) {
  ASSIGN_OR_RETURN(BlobReaderPtr reader, store.Open(id));
  std::string out(reader->size(), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(out.data() + done, out.size() - done));
    if (n == 0) return absl::DataLossError("blob ended before its recorded size");
    done += n;
  }
  return out;
}

}  // namespace mercato
