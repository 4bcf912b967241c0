package httpapi

import (
	"net/http"

	"github.com/plaza-im/plaza/internal/account"
)

// registerRoutes lists every route of the API, so the whole surface reads
// on one screen. The OpenAPI document (openapi.go) must describe each one;
// a test checks both directions.
func (s *Server) registerRoutes() {
	// Operations.
	s.handle("GET /healthz", public, s.healthz)
	s.handle("GET /livez", public, s.livez)
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /metrics", public, s.serveMetrics)
	s.handle("GET /api/v1/openapi.json", public, s.openAPI)

	// Terms, registration and sessions.
	s.handle("GET /api/v1/terms", public, s.getTerms)
	s.handle("POST /api/v1/accounts", public, s.register)
	s.handle("POST /api/v1/setup", public, s.setup)
	s.handle("POST /api/v1/sessions", public, s.login)
	s.handle("DELETE /api/v1/sessions/current", anyStanding, s.logout)

	// One's own account.
	s.handle("GET /api/v1/me", anyStanding, s.getMe)
	s.handle("PATCH /api/v1/me", signedIn, s.patchMe)
	s.handle("DELETE /api/v1/me", anyStanding, s.deleteMe)
	s.handle("POST /api/v1/me/deletion/cancel", anyStanding, s.cancelDeletion)
	s.handle("POST /api/v1/me/password", anyStanding, s.changePassword)
	s.handle("GET /api/v1/me/sessions", anyStanding, s.listSessions)
	s.handle("DELETE /api/v1/me/sessions/{id}", anyStanding, s.revokeSession)
	s.handle("POST /api/v1/me/consents", consenting, s.consent)
	s.handle("GET /api/v1/me/legacy-contact", signedIn, s.getLegacyContact)
	s.handle("PUT /api/v1/me/legacy-contact", signedIn, s.putLegacyContact)
	s.handle("DELETE /api/v1/me/legacy-contact", signedIn, s.deleteLegacyContact)
	s.handle("GET /api/v1/me/privacy", signedIn, s.getPrivacy)
	s.handle("PATCH /api/v1/me/privacy", signedIn, s.patchPrivacy)
	s.handle("PUT /api/v1/me/avatar", signedIn, s.putAvatar)
	s.handle("DELETE /api/v1/me/avatar", signedIn, s.deleteAvatar)
	s.handle("POST /api/v1/me/invites", signedIn, s.createInvite)
	s.handle("GET /api/v1/me/invites", signedIn, s.listInvites)
	s.handle("DELETE /api/v1/me/invites/{id}", signedIn, s.revokeInvite)

	// Your data: exports, allowed in any standing.
	s.handle("POST /api/v1/me/exports", anyStanding, s.requestExport)
	s.handle("GET /api/v1/me/exports", anyStanding, s.listExports)
	s.handle("GET /api/v1/me/exports/{id}", anyStanding, s.getExport)
	s.handle("GET /api/v1/me/exports/{id}/download", anyStanding, s.downloadExport)

	// Verification.
	s.handle("GET /api/v1/verification-policy", public, s.verificationPolicy)
	s.handle("POST /api/v1/me/phone", signedIn, s.startPhone)
	s.handle("POST /api/v1/me/phone/verify", signedIn, s.verifyPhone)
	s.handle("POST /api/v1/me/identity", signedIn, s.submitIdentity)
	s.handle("GET /api/v1/me/identity", signedIn, s.getIdentity)
	s.handle("POST /api/v1/webhooks/identity/{provider}", public, s.identityWebhook)

	// Contacts and blocks.
	s.handle("POST /api/v1/contacts/requests", signedIn, s.requestContact)
	s.handle("GET /api/v1/contacts/requests", signedIn, s.listContactRequests)
	s.handle("POST /api/v1/contacts/requests/{id}/accept", signedIn, s.acceptContact)
	s.handle("POST /api/v1/contacts/requests/{id}/decline", signedIn, s.declineContact)
	s.handle("GET /api/v1/contacts", signedIn, s.listContacts)
	s.handle("DELETE /api/v1/contacts/{id}", signedIn, s.removeContact)
	s.handle("POST /api/v1/blocks", signedIn, s.block)
	s.handle("GET /api/v1/blocks", signedIn, s.listBlocks)
	s.handle("DELETE /api/v1/blocks/{id}", signedIn, s.unblock)

	// Conversations and messages.
	s.handle("POST /api/v1/conversations", signedIn, s.createConversation)
	s.handle("GET /api/v1/conversations", signedIn, s.listConversations)
	s.handle("GET /api/v1/conversations/{id}", signedIn, s.getConversation)
	s.handle("PATCH /api/v1/conversations/{id}", signedIn, s.renameConversation)
	s.handle("POST /api/v1/conversations/{id}/members", signedIn, s.addMembers)
	s.handle("DELETE /api/v1/conversations/{id}/members/{account_id}", signedIn, s.removeMember)
	s.handle("PUT /api/v1/conversations/{id}/members/{account_id}/role", signedIn, s.setMemberRole)
	s.handle("POST /api/v1/conversations/{id}/messages", signedIn, s.sendMessage)
	s.handle("GET /api/v1/conversations/{id}/messages", signedIn, s.listMessages)
	s.handle("POST /api/v1/conversations/{id}/messages/{message_id}/recall", signedIn, s.recallMessage)
	s.handle("POST /api/v1/conversations/{id}/read", signedIn, s.markRead)
	s.handle("POST /api/v1/conversations/{id}/typing", signedIn, s.typing)
	s.handle("GET /api/v1/messages/search", signedIn, s.searchMessages)
	s.handle("PUT /api/v1/conversations/{id}/mute", signedIn, s.muteConversation)

	// Web Push.
	s.handle("GET /api/v1/push/vapid-key", signedIn, s.vapidKey)
	s.handle("POST /api/v1/me/push-subscriptions", signedIn, s.subscribePush)
	s.handle("GET /api/v1/me/push-subscriptions", signedIn, s.listPushSubscriptions)
	s.handle("DELETE /api/v1/me/push-subscriptions/{id}", signedIn, s.deletePushSubscription)

	// Media.
	s.handle("POST /api/v1/media", signedIn, s.uploadMedia)
	s.handle("GET /api/v1/media/{id}", signedIn, s.getMedia)
	s.handle("GET /api/v1/media/{id}/thumbnail", signedIn, s.getMediaThumbnail)
	s.handle("DELETE /api/v1/media/{id}", signedIn, s.deleteMedia)
	s.handle("GET /api/v1/me/media", signedIn, s.listMyMedia)
	s.handle("GET /api/v1/me/media-usage", signedIn, s.mediaUsage)
	s.handle("POST /api/v1/uploads", signedIn, s.tusRequest(s.tusPost))
	s.handle("HEAD /api/v1/uploads/{id}", signedIn, s.tusRequest(s.tusHead))
	s.handle("PATCH /api/v1/uploads/{id}", signedIn, s.tusRequest(s.tusPatch))
	s.handle("DELETE /api/v1/uploads/{id}", signedIn, s.tusRequest(s.tusDelete))

	// Sync and the real-time stream.
	s.handle("GET /api/v1/sync", signedIn, s.sync)
	s.handle("GET /api/v1/stream", signedIn, s.stream)

	// Public accounts.
	s.handle("POST /api/v1/channel-applications", signedIn, s.applyChannel)
	s.handle("GET /api/v1/channel-applications", signedIn, s.myApplications)
	s.handle("GET /api/v1/channels", signedIn, s.searchChannels)
	s.handle("GET /api/v1/channels/{id}", signedIn, s.getChannel)
	s.handle("POST /api/v1/channels/{id}/follow", signedIn, s.follow)
	s.handle("DELETE /api/v1/channels/{id}/follow", signedIn, s.unfollow)
	s.handle("POST /api/v1/channels/{id}/read", signedIn, s.readChannel)
	s.handle("POST /api/v1/channels/{id}/editors", signedIn, s.addEditor)
	s.handle("DELETE /api/v1/channels/{id}/editors/{account_id}", signedIn, s.removeEditor)
	s.handle("POST /api/v1/channels/{id}/posts", signedIn, s.createPost)
	s.handle("GET /api/v1/channels/{id}/posts", signedIn, s.listPosts)
	s.handle("GET /api/v1/feeds/channels", signedIn, s.channelFeed)
	s.handle("GET /api/v1/categories", signedIn, s.listCategories)

	// Public accounts: review and operator.
	s.handle("GET /api/v1/admin/channel-applications", signedIn, s.listApplications, account.Reviewer)
	s.handle("POST /api/v1/admin/channel-applications/{id}/decision", signedIn, s.decideApplication, account.Reviewer)
	s.handle("GET /api/v1/admin/post-reviews", signedIn, s.listPostReviews, account.Reviewer)
	s.handle("POST /api/v1/admin/post-reviews/{id}/decision", signedIn, s.decidePost, account.Reviewer)
	s.handle("PUT /api/v1/admin/categories/{name}", signedIn, s.putCategory, account.Admin)
	s.handle("POST /api/v1/admin/channels/{id}/credentials", signedIn, s.grantCredential, account.Admin)
	s.handle("GET /api/v1/admin/channels/{id}/credentials", signedIn, s.listCredentials, account.Admin)
	s.handle("DELETE /api/v1/admin/channels/{id}/credentials/{credential_id}", signedIn, s.revokeCredential, account.Admin)
	s.handle("PATCH /api/v1/admin/channels/{id}", signedIn, s.patchChannel, account.Admin)
	s.handle("POST /api/v1/admin/channels/{id}/status", signedIn, s.setChannelStatus, account.Admin)

	// Other people.
	s.handle("GET /api/v1/accounts/lookup", signedIn, s.lookupAccount)
	s.handle("GET /api/v1/accounts/{id}", signedIn, s.getProfile)
	s.handle("GET /api/v1/accounts/{id}/avatar", signedIn, s.getAvatar)
	s.handle("GET /api/v1/invites/{token}", signedIn, s.getInvite)
	s.handle("POST /api/v1/accounts/{id}/legacy-exports", signedIn, s.legacyExport)

	// Microblog.
	s.handle("POST /api/v1/posts", signedIn, s.newPost)
	s.handle("GET /api/v1/posts/{id}", optional, s.getPost)
	s.handle("DELETE /api/v1/posts/{id}", signedIn, s.deletePost)
	s.handle("GET /api/v1/posts/{id}/replies", optional, s.listReplies)
	s.handle("POST /api/v1/posts/{id}/like", signedIn, s.likePost)
	s.handle("DELETE /api/v1/posts/{id}/like", signedIn, s.unlikePost)
	s.handle("POST /api/v1/accounts/{id}/follow", signedIn, s.followAccount)
	s.handle("DELETE /api/v1/accounts/{id}/follow", signedIn, s.unfollowAccount)
	s.handle("GET /api/v1/accounts/{id}/followers", signedIn, s.listFollowers)
	s.handle("GET /api/v1/accounts/{id}/following", signedIn, s.listFollowing)
	s.handle("GET /api/v1/accounts/{id}/posts", optional, s.accountPosts)
	s.handle("GET /api/v1/timeline", signedIn, s.timeline)
	s.handle("GET /api/v1/hashtags/{tag}/posts", optional, s.hashtagPosts)
	s.handle("GET /api/v1/trending", optional, s.trending)
	s.handle("GET /api/v1/search/posts", optional, s.searchPosts)
	s.handle("GET /api/v1/notifications", signedIn, s.listNotifications)
	s.handle("POST /api/v1/notifications/read", signedIn, s.readNotifications)

	// Microblog: review and operator.
	s.handle("GET /api/v1/admin/microblog-reviews", signedIn, s.listMicroblogReviews, account.Reviewer)
	s.handle("POST /api/v1/admin/microblog-reviews/{id}/decision", signedIn, s.decideMicroblogPost, account.Reviewer)
	s.handle("POST /api/v1/admin/accounts/{id}/credentials", signedIn, s.grantAccountCredential, account.Admin)
	s.handle("GET /api/v1/admin/accounts/{id}/credentials", signedIn, s.listAccountCredentials, account.Admin)
	s.handle("DELETE /api/v1/admin/accounts/{id}/credentials/{credential_id}", signedIn, s.revokeAccountCredential, account.Admin)

	// Moderation and transparency.
	s.handle("GET /api/v1/rules", public, s.listRules)
	s.handle("POST /api/v1/reports", signedIn, s.fileReport)
	s.handle("GET /api/v1/me/reports", anyStanding, s.myReports)
	s.handle("GET /api/v1/me/decisions", anyStanding, s.myDecisions)
	s.handle("GET /api/v1/me/decisions/{id}", anyStanding, s.myDecision)
	s.handle("POST /api/v1/me/decisions/{id}/appeal", anyStanding, s.appealDecision)
	s.handle("GET /api/v1/transparency", public, s.transparency)
	s.handle("GET /api/v1/admin/reports", signedIn, s.listReportQueue, account.Moderator, account.Admin)
	s.handle("POST /api/v1/admin/reports/{id}/decision", signedIn, s.decideReport, account.Moderator, account.Admin)
	s.handle("POST /api/v1/admin/decisions", signedIn, s.takeDecision, account.Moderator, account.Admin)
	s.handle("GET /api/v1/admin/appeals", signedIn, s.listAppeals, account.Moderator, account.Admin)
	s.handle("POST /api/v1/admin/appeals/{id}/decision", signedIn, s.decideAppeal, account.Moderator, account.Admin)
	s.handle("POST /api/v1/admin/authority-orders", signedIn, s.recordOrder, account.Admin)
	s.handle("GET /api/v1/admin/authority-orders", signedIn, s.listOrders, account.Admin, account.Moderator)
	s.handle("PUT /api/v1/admin/rules/{id}", signedIn, s.putRule, account.Admin)

	// Operator.
	s.handle("GET /api/v1/admin/overview", signedIn, s.adminOverview, account.Admin, account.Moderator, account.Reviewer, account.Compliance)
	s.handle("POST /api/v1/admin/terms", signedIn, s.publishTerms, account.Admin)
	s.handle("GET /api/v1/admin/accounts", signedIn, s.adminFindAccount, account.Admin, account.Moderator)
	s.handle("GET /api/v1/admin/accounts/{id}", signedIn, s.adminGetAccount, account.Admin, account.Moderator)
	s.handle("PUT /api/v1/admin/accounts/{id}/roles/{role}", signedIn, s.grantRole, account.Admin)
	s.handle("DELETE /api/v1/admin/accounts/{id}/roles/{role}", signedIn, s.revokeRole, account.Admin)
	s.handle("POST /api/v1/admin/accounts/{id}/suspension", signedIn, s.suspend, account.Admin, account.Moderator)
	s.handle("POST /api/v1/admin/accounts/{id}/reinstatement", signedIn, s.reasonAction(s.accounts.Unsuspend), account.Admin, account.Moderator)
	s.handle("POST /api/v1/admin/accounts/{id}/closure", signedIn, s.reasonAction(s.accounts.Close), account.Admin)
	s.handle("POST /api/v1/admin/accounts/{id}/memorialisation", signedIn, s.reasonAction(s.accounts.Memorialise), account.Admin)
	s.handle("GET /api/v1/admin/identity-reviews", signedIn, s.listIdentityReviews, account.Compliance)
	s.handle("POST /api/v1/admin/identity-reviews/{id}/decision", signedIn, s.decideIdentity, account.Compliance)
	s.handle("GET /api/v1/admin/audit-log", signedIn, s.listAudit, account.Admin)
	s.handle("GET /api/v1/admin/audit-log/verification", signedIn, s.verifyAudit, account.Admin)
}

// access says who may call a route.
type access int

const (
	// public routes need no session.
	public access = iota
	// signedIn routes need a session of an account in good standing that
	// has accepted the terms in force.
	signedIn
	// consenting routes need a session whose account may still have to
	// accept new terms: accepting them.
	consenting
	// anyStanding routes need only a valid session, whatever the account's
	// standing: reading one's own account, signing out, exporting and
	// deleting. A user may always leave.
	anyStanding
	// optional routes serve anonymous callers (public posts) and, with a
	// token, a signed-in caller under the signedIn rules; a bad token is
	// refused rather than taken for anonymous.
	optional
)

// route is one registered route, kept for the OpenAPI coverage test.
type route struct {
	pattern string
	access  access
	roles   []account.Role
}

// handlerFunc is an API handler: it writes a success response itself and
// returns an error for the adapter to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, a access, h handlerFunc, roles ...account.Role) {
	s.routes = append(s.routes, route{pattern: pattern, access: a, roles: roles})
	params := wildcards(pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		info.route = pattern
		if a != public {
			w.Header().Set("Cache-Control", "no-store")
			rules := a
			if a == optional {
				rules = signedIn
			}
			if a != optional || r.Header.Get("Authorization") != "" {
				if err := s.authorize(r, rules, roles); err != nil {
					s.writeError(w, r, err)
					return
				}
			}
		}
		if err := checkParams(r, params); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}))
}
