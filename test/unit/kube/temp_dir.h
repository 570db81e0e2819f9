#pragma once

// A scratch folder for generated kubeconfigs, certificates and plugin scripts,
// removed at the end of the test.

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace globalsvc::kube::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kube-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  std::string Write(const std::string& name, const std::string& text,
                    bool executable = false) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    if (executable) chmod(file.c_str(), 0755);
    return file.string();
  }

  [[nodiscard]] std::string Read(const std::string& name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::filesystem::path path_;
};

// A self-signed certificate and its key, made with the openssl command.
struct TestCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

inline TestCertificate MakeCertificate(const TempDir& dir, const std::string& name) {
  const std::string key = (dir.path() / (name + ".key")).string();
  const std::string crt = (dir.path() / (name + ".crt")).string();
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
      " -out " + crt + " -days 1 -subj /CN=" + name + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl failed");
  return {dir.Read(name + ".crt"), dir.Read(name + ".key")};
}

}  // namespace globalsvc::kube::testing
