// Package microblog runs the public square: posts of text, photos or a
// video with hashtags and mentions, replies and reposts, one-way follows
// with exact counts, likes, hashtag pages and trending tags, each
// reader's home timeline, and notifications.
//
// Timelines use hybrid fan-out. A post by an author with fewer followers
// than the threshold gets a fan-out job in its own transaction; a worker
// then writes it into each follower's timeline in batches, off the
// request path. An author at or above the threshold ("celebrity") is
// never fanned out: readers merge the recent posts of the celebrities
// they follow at read time, and live delivery goes once to the author's
// bus subject. Publishing therefore costs the same whatever the
// follower count.
package microblog
