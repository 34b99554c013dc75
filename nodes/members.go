package nodes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Member is a node of the cluster as its heartbeats describe it.
type Member struct {
	Name string `json:"name"`
	// ID identifies one run of the node (new at every start).
	ID       string            `json:"id"`
	Labels   map[string]string `json:"labels,omitempty"`
	Capacity Capacity          `json:"capacity"`
	// Boxes are the boxes the node serves to the cluster (Node.Serve).
	Boxes []string `json:"boxes,omitempty"`
	// Started is when the node started (its own clock).
	Started time.Time `json:"started"`
	// ClientURL and RouteURL are its embedded server's addresses, if any.
	ClientURL string `json:"client_url,omitempty"`
	RouteURL  string `json:"route_url,omitempty"`
	// Interval is the node's heartbeat interval.
	Interval time.Duration `json:"interval"`
	// Seq counts the node's heartbeats.
	Seq uint64 `json:"seq"`

	// LastSeen is when this node last heard from the member (this node's
	// clock: members' clocks need not agree).
	LastSeen time.Time `json:"-"`
	// Self marks the node itself.
	Self bool `json:"-"`
}

// membership keeps the members of the cluster from their heartbeats.
//
// Every node publishes a heartbeat on wbox.<cluster>.members.beat.<name>
// every Config.Heartbeat, and on a change of what it serves; a member not
// heard from for Config.MissedBeats of its own intervals is gone. A new
// node says hello (everyone beats at once, so it knows the cluster in one
// round trip) and a leaving node says bye (everyone forgets it at once).
// Heartbeats are core NATS messages, not JetStream: membership needs no
// quorum, so any connected part of a cluster knows its members.
type membership struct {
	n    *Node
	self Member
	sub  *nats.Subscription

	mu      sync.Mutex
	members map[string]*Member // others, by name
	dupes   map[string]bool    // IDs of other nodes using our name, reported
	watches []chan struct{}

	beat chan struct{} // beat now
	stop chan struct{}
	done chan struct{}
}

func (n *Node) memberSubject(kind string) string {
	return n.prefix + ".members." + kind + "." + n.cfg.Name
}

func newMembership(n *Node) *membership {
	var id [8]byte
	rand.Read(id[:])
	c := n.cfg
	self := Member{
		Name: c.Name, ID: hex.EncodeToString(id[:]), Labels: maps.Clone(c.Labels), Capacity: c.Capacity,
		Started: time.Now().UTC(), ClientURL: n.ClientURL(), RouteURL: n.RouteURL(),
		Interval: c.Heartbeat, Self: true,
	}
	return &membership{
		n: n, self: self, members: map[string]*Member{}, dupes: map[string]bool{},
		beat: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

func (m *membership) start() error {
	sub, err := m.n.nc.Subscribe(m.n.prefix+".members.>", m.receive)
	if err != nil {
		return err
	}
	m.sub = sub
	if err := m.n.nc.Flush(); err != nil {
		return err
	}
	m.n.nc.Publish(m.n.memberSubject("hello"), nil)
	go m.loop()
	return nil
}

// loop beats and forgets silent members until stop.
func (m *membership) loop() {
	defer close(m.done)
	t := time.NewTicker(m.self.Interval)
	defer t.Stop()
	m.publish()
	for {
		select {
		case <-m.stop:
			return
		case <-m.beat:
			m.publish()
		case <-t.C:
			m.publish()
			m.sweep(time.Now())
		}
	}
}

func (m *membership) publish() {
	boxes := m.n.Serving()
	m.mu.Lock()
	m.self.Seq++
	m.self.Boxes = boxes
	b, err := json.Marshal(&m.self)
	m.mu.Unlock()
	if err != nil {
		return
	}
	m.n.nc.Publish(m.n.memberSubject("beat"), b)
}

// changed makes the node beat at once (what it serves changed).
func (m *membership) changed() {
	select {
	case m.beat <- struct{}{}:
	default:
	}
}

func (m *membership) receive(msg *nats.Msg) {
	rest := strings.TrimPrefix(msg.Subject, m.n.prefix+".members.")
	kind, name, _ := strings.Cut(rest, ".")
	if name == m.self.Name && kind != "beat" {
		return // our own hello or bye
	}
	switch kind {
	case "hello":
		m.changed()
	case "bye":
		m.mu.Lock()
		_, ok := m.members[name]
		delete(m.members, name)
		if ok {
			m.notifyLocked()
		}
		m.mu.Unlock()
		if ok {
			m.n.log.Info("member left", "member", name)
		}
	case "beat":
		var b Member
		if err := json.Unmarshal(msg.Data, &b); err != nil || b.Name != name {
			return
		}
		if name == m.self.Name {
			if b.ID != m.self.ID { // ID and Name never change
				m.mu.Lock()
				dup := m.dupes[b.ID]
				m.dupes[b.ID] = true
				m.mu.Unlock()
				if !dup {
					m.n.log.Error("another node of the cluster has this node's name: node names must be unique", "name", name)
				}
			}
			return
		}
		b.LastSeen = time.Now()
		m.mu.Lock()
		old := m.members[name]
		m.members[name] = &b
		if old == nil || old.ID != b.ID || !slices.Equal(old.Boxes, b.Boxes) || !maps.Equal(old.Labels, b.Labels) || old.Capacity != b.Capacity {
			m.notifyLocked()
		}
		m.mu.Unlock()
		switch {
		case old == nil:
			m.n.log.Info("member joined", "member", name, "labels", b.Labels)
		case old.ID != b.ID:
			m.n.log.Info("member restarted", "member", name)
		}
	}
}

// sweep forgets the members silent for MissedBeats of their intervals.
func (m *membership) sweep(now time.Time) {
	var gone []string
	m.mu.Lock()
	for name, b := range m.members {
		iv := b.Interval
		if iv <= 0 {
			iv = m.self.Interval
		}
		if now.Sub(b.LastSeen) > time.Duration(m.n.cfg.MissedBeats)*iv {
			delete(m.members, name)
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		m.notifyLocked()
	}
	m.mu.Unlock()
	for _, name := range gone {
		m.n.log.Warn("member lost: no heartbeat", "member", name)
	}
}

// notifyLocked signals the watchers; m.mu is held, so a watcher that sees
// the new member list also finds the signal pending.
func (m *membership) notifyLocked() {
	for _, w := range m.watches {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

func (m *membership) list() []Member {
	m.mu.Lock()
	ms := make([]Member, 0, len(m.members)+1)
	for _, b := range m.members {
		ms = append(ms, *b)
	}
	self := m.self
	m.mu.Unlock()
	self.Boxes = m.n.Serving()
	self.LastSeen = time.Now()
	ms = append(ms, self)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

// leave says goodbye and stops beating.
func (m *membership) leave() {
	close(m.stop)
	<-m.done
	if m.sub != nil {
		m.sub.Unsubscribe()
	}
	m.n.nc.Publish(m.n.memberSubject("bye"), nil)
	m.mu.Lock()
	for _, w := range m.watches {
		close(w)
	}
	m.watches = nil
	m.mu.Unlock()
}

// Members returns the members of the cluster this node knows, itself
// included, sorted by name.
func (n *Node) Members() []Member { return n.members.list() }

// MembersChanged returns a channel that receives (coalesced) when a member
// joins, leaves, is lost, restarts, or changes what it serves, its labels
// or capacity. It is closed when the node closes.
func (n *Node) MembersChanged() <-chan struct{} {
	c := make(chan struct{}, 1)
	n.members.mu.Lock()
	n.members.watches = append(n.members.watches, c)
	n.members.mu.Unlock()
	return c
}

// Where returns the members that serve box, sorted by name.
func (n *Node) Where(box string) []string {
	var ws []string
	for _, m := range n.Members() {
		if slices.Contains(m.Boxes, box) {
			ws = append(ws, m.Name)
		}
	}
	return ws
}
