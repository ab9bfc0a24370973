#include "sandboxd/net/bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fd.h"
#include "common/field_errors.h"
#include "common/status.h"

namespace secureos::sandboxd {
namespace {

bool ValidIfName(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

uint32_t HostOrder(in_addr a) { return ntohl(a.s_addr); }

uint32_t Mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

// ---- rtnetlink over libmnl

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// One NETLINK_ROUTE socket, in the network namespace of the thread that opened it.
class Rtnetlink {
 public:
  static absl::StatusOr<Rtnetlink> Open() {
    Rtnetlink r;
    r.socket_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
    if (r.socket_ == nullptr) return ErrnoToStatus(errno, "open rtnetlink");
    if (mnl_socket_bind(r.socket_.get(), 0, MNL_SOCKET_AUTOPID) != 0) {
      return ErrnoToStatus(errno, "bind rtnetlink");
    }
    r.portid_ = mnl_socket_get_portid(r.socket_.get());
    return r;
  }

  // A new request of `type` with `flags` (NLM_F_REQUEST | NLM_F_ACK always) and a zeroed
  // family header of `header_size` bytes, which it returns.
  nlmsghdr* Begin(uint16_t type, uint16_t flags, size_t header_size, void** header) {
    buffer_.assign(MNL_SOCKET_BUFFER_SIZE, 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    nlh->nlmsg_seq = ++seq_;
    *header = mnl_nlmsg_put_extra_header(nlh, header_size);
    return nlh;
  }

  // Sends `nlh` and waits for the kernel's acknowledgement.
  absl::Status Send(nlmsghdr* nlh, const std::string& what) {
    if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0) return ErrnoToStatus(errno, what);
    std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(socket_.get(), reply.data(), reply.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, what);
      }
      const int r = mnl_cb_run(reply.data(), n, nlh->nlmsg_seq, portid_, nullptr, nullptr);
      if (r == MNL_CB_ERROR) return ErrnoToStatus(errno, what);
      if (r <= MNL_CB_STOP) return absl::OkStatus();
    }
  }

 private:
  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::vector<char> buffer_;
};

absl::StatusOr<unsigned> IndexOf(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return ErrnoToStatus(errno, "find interface " + name);
  return index;
}

absl::Status SetUp(Rtnetlink& nl, unsigned index, const std::string& name) {
  void* h;
  nlmsghdr* nlh = nl.Begin(RTM_NEWLINK, 0, sizeof(ifinfomsg), &h);
  auto* ifi = static_cast<ifinfomsg*>(h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(index);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return nl.Send(nlh, "bring up " + name);
}

absl::Status AddAddress(Rtnetlink& nl, unsigned index, in_addr address, int prefix, const std::string& name) {
  void* h;
  nlmsghdr* nlh = nl.Begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifaddrmsg), &h);
  auto* ifa = static_cast<ifaddrmsg*>(h);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = index;
  mnl_attr_put(nlh, IFA_LOCAL, sizeof(address), &address);
  mnl_attr_put(nlh, IFA_ADDRESS, sizeof(address), &address);
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &address, text, sizeof(text));
  return nl.Send(nlh, absl::StrCat("add address ", text, "/", prefix, " to ", name));
}

// The bridge, made (with the gateway address, up) when missing; its index.
absl::StatusOr<unsigned> EnsureBridge(Rtnetlink& nl, const BridgePlan& plan) {
  if (const unsigned index = ::if_nametoindex(plan.bridge.c_str()); index != 0) return index;
  void* h;
  nlmsghdr* nlh = nl.Begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifinfomsg), &h);
  static_cast<ifinfomsg*>(h)->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, plan.bridge.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  absl::Status made = nl.Send(nlh, "create bridge " + plan.bridge);
  // Another launch may have made it meanwhile: then it is used as it is.
  if (!made.ok() && !absl::IsAlreadyExists(made)) return made;
  SECUREOS_ASSIGN_OR_RETURN(unsigned index, IndexOf(plan.bridge));
  if (made.ok()) {
    SECUREOS_RETURN_IF_ERROR(AddAddress(nl, index, plan.gateway, plan.prefix, plan.bridge));
    SECUREOS_RETURN_IF_ERROR(SetUp(nl, index, plan.bridge));
  }
  return index;
}

// The pair: `host` on the bridge, its peer eth0 made inside the namespace of `pid`.
absl::Status CreateVeth(Rtnetlink& nl, const std::string& host, unsigned bridge, pid_t pid) {
  void* h;
  nlmsghdr* nlh = nl.Begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(ifinfomsg), &h);
  static_cast<ifinfomsg*>(h)->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, host.c_str());
  mnl_attr_put_u32(nlh, IFLA_MASTER, bridge);
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's own link message: its header, then its attributes.
  static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)))->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
  mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, static_cast<uint32_t>(pid));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return nl.Send(nlh, "create veth " + host);
}

absl::Status AddDefaultRoute(Rtnetlink& nl, in_addr gateway) {
  void* h;
  nlmsghdr* nlh = nl.Begin(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(rtmsg), &h);
  auto* rt = static_cast<rtmsg*>(h);
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gateway), &gateway);
  return nl.Send(nlh, "add the default route");
}

// eth0's address, eth0 up and the default route, from a thread inside the namespace of
// `pid` (a network namespace may be entered by one thread of a multi-threaded process).
absl::Status ConfigureInside(pid_t pid, const BridgePlan& plan) {
  SECUREOS_ASSIGN_OR_RETURN(UniqueFd ns, OpenFile(absl::StrCat("/proc/", pid, "/ns/net"), O_RDONLY));
  absl::Status result;
  std::thread inside([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      result = ErrnoToStatus(errno, "enter the workload's network namespace");
      return;
    }
    result = [&]() -> absl::Status {
      SECUREOS_ASSIGN_OR_RETURN(Rtnetlink nl, Rtnetlink::Open());
      SECUREOS_ASSIGN_OR_RETURN(unsigned eth0, IndexOf("eth0"));
      SECUREOS_RETURN_IF_ERROR(AddAddress(nl, eth0, plan.address, plan.prefix, "eth0"));
      SECUREOS_RETURN_IF_ERROR(SetUp(nl, eth0, "eth0"));
      return AddDefaultRoute(nl, plan.gateway);
    }();
  });
  inside.join();
  return result;
}

}  // namespace

absl::StatusOr<BridgePlan> ParseBridge(const v1::BridgeNetwork& b) {
  FieldErrors errors;
  BridgePlan plan;
  plan.bridge = b.name();
  if (!ValidIfName(b.name())) {
    errors.Add("bridge.name", absl::StrCat("1-15 of [A-Za-z0-9_.-], got \"", b.name(), "\""));
  }
  std::vector<std::string> parts = absl::StrSplit(b.address(), '/');
  if (parts.size() != 2 || ::inet_pton(AF_INET, parts[0].c_str(), &plan.address) != 1 ||
      !absl::SimpleAtoi(parts[1], &plan.prefix) || plan.prefix < 8 || plan.prefix > 30) {
    errors.Add("bridge.address", absl::StrCat("an IPv4 address with a prefix of 8 to 30 bits "
                                              "(\"10.88.0.2/24\"), got \"", b.address(), "\""));
    return errors.ToStatus();
  }
  const uint32_t mask = Mask(plan.prefix), host = HostOrder(plan.address);
  if ((host & ~mask) == 0 || (host & ~mask) == ~mask) {
    errors.Add("bridge.address", absl::StrCat(b.address(), " is the subnet's network or broadcast address"));
  }
  if (::inet_pton(AF_INET, b.gateway().c_str(), &plan.gateway) != 1) {
    errors.Add("bridge.gateway", absl::StrCat("an IPv4 address, got \"", b.gateway(), "\""));
  } else if ((HostOrder(plan.gateway) & mask) != (host & mask)) {
    errors.Add("bridge.gateway", absl::StrCat(b.gateway(), " is outside ", b.address(), "'s subnet"));
  } else if (plan.gateway.s_addr == plan.address.s_addr) {
    errors.Add("bridge.gateway", "must differ from bridge.address");
  }
  SECUREOS_RETURN_IF_ERROR(errors.ToStatus());
  return plan;
}

std::string HostInterfaceName(const std::string& workload_id) {
  std::string hex(absl::StripPrefix(workload_id, "w-"));
  return ("sv" + hex).substr(0, IFNAMSIZ - 1);
}

absl::Status AttachToBridge(pid_t pid, const BridgePlan& plan, const std::string& host_ifname) {
  SECUREOS_ASSIGN_OR_RETURN(Rtnetlink nl, Rtnetlink::Open());
  SECUREOS_ASSIGN_OR_RETURN(unsigned bridge, EnsureBridge(nl, plan));
  SECUREOS_RETURN_IF_ERROR(CreateVeth(nl, host_ifname, bridge, pid));
  SECUREOS_ASSIGN_OR_RETURN(unsigned host, IndexOf(host_ifname));
  SECUREOS_RETURN_IF_ERROR(SetUp(nl, host, host_ifname));
  return ConfigureInside(pid, plan);
}

}  // namespace secureos::sandboxd
