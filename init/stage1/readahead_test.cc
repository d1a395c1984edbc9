#include "init/stage1/readahead.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace cairn::init::stage1 {
namespace {

// An ELF64 little-endian header followed by program headers, as in the first page of a file.
std::vector<unsigned char> elf_head(const std::vector<Elf64_Phdr>& phdrs) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(phdrs.size());
  std::vector<unsigned char> head(sizeof eh + phdrs.size() * sizeof(Elf64_Phdr));
  std::memcpy(head.data(), &eh, sizeof eh);
  for (size_t i = 0; i < phdrs.size(); ++i) {
    std::memcpy(head.data() + sizeof eh + i * sizeof(Elf64_Phdr), &phdrs[i], sizeof phdrs[i]);
  }
  return head;
}

Elf64_Phdr segment(uint32_t type, uint64_t offset, uint64_t filesz) {
  Elf64_Phdr ph{};
  ph.p_type = type;
  ph.p_offset = offset;
  ph.p_filesz = filesz;
  return ph;
}

TEST(ReadaheadRanges, ElfFileReadsItsLoadSegmentsOnly) {
  auto head = elf_head({segment(PT_PHDR, 64, 224), segment(PT_LOAD, 0, 0x1000),
                        segment(PT_LOAD, 0x1000, 0x5000), segment(PT_NOTE, 0x300, 0x20),
                        segment(PT_LOAD, 0x7000, 0)});           // .bss only: nothing to read
  auto r = readahead_ranges(head.data(), head.size(), 0x20000);  // symbol tables after 0x6000
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].offset, 0u);
  EXPECT_EQ(r[0].length, 0x1000u);
  EXPECT_EQ(r[1].offset, 0x1000u);
  EXPECT_EQ(r[1].length, 0x5000u);
}

TEST(ReadaheadRanges, SegmentsPastTheEndOfTheFileAreClipped) {
  auto head = elf_head({segment(PT_LOAD, 0x1000, 0x9000), segment(PT_LOAD, 0x50000, 0x10)});
  auto r = readahead_ranges(head.data(), head.size(), 0x4000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].offset, 0x1000u);
  EXPECT_EQ(r[0].length, 0x3000u);
}

TEST(ReadaheadRanges, AnythingElseIsReadWhole) {
  const unsigned char script[] = "#!/bin/sh\nexec true\n";
  auto r = readahead_ranges(script, sizeof script - 1, 20);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].offset, 0u);
  EXPECT_EQ(r[0].length, 20u);

  auto head = elf_head({segment(PT_LOAD, 0, 0x1000)});
  head[EI_CLASS] = ELFCLASS32;
  EXPECT_EQ(readahead_ranges(head.data(), head.size(), 0x3000)[0].length, 0x3000u);

  // Program headers that do not fit in the bytes read: no trust in them, the whole file.
  auto cut = elf_head({segment(PT_LOAD, 0, 0x1000), segment(PT_LOAD, 0x1000, 0x1000)});
  auto r2 = readahead_ranges(cut.data(), cut.size() - 1, 0x9000);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].length, 0x9000u);
  EXPECT_EQ(readahead_ranges(cut.data(), 10, 0x9000)[0].length, 0x9000u);
}

TEST(ReadaheadList, AbsolutePathsInOrderWithoutCommentsOrDuplicates) {
  auto paths = parse_readahead_list(
      "# written by cairn-image\n/usr/bin/cairn-datastore\n\n  /sbin/agetty \r\n"
      "relative/path\n/usr/bin/cairn-datastore\n");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/usr/bin/cairn-datastore");
  EXPECT_EQ(paths[1], "/sbin/agetty");
  EXPECT_TRUE(parse_readahead_list("").empty());
}

TEST(StartReadahead, NoListMeansNothingToRead) {
  EXPECT_EQ(start_readahead("/nonexistent-root-for-readahead-test"), -1);
}

TEST(StartReadahead, ReadsTheListedFilesInAChildThatExits) {
  char tmpl[] = "/tmp/readahead-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ASSERT_EQ(::system(("mkdir -p " + root + "/usr/share/cairn " + root + "/usr/bin").c_str()), 0);
  {
    std::ofstream(root + "/usr/bin/tool") << std::string(300000, 'x');
    std::ofstream(root + kReadaheadList) << "/usr/bin/tool\n/usr/bin/missing\n";
  }
  pid_t pid = start_readahead(root);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Only missing files: nothing to fork for.
  std::ofstream(root + kReadaheadList) << "/usr/bin/missing\n";
  EXPECT_EQ(start_readahead(root), -1);
  ASSERT_EQ(::system(("rm -rf " + root).c_str()), 0);
}

}  // namespace
}  // namespace cairn::init::stage1
